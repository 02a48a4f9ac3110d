"""Presentation: takes library objects and returns or writes text.

Knows nothing of files or of the command line. Colour and layout are
rich's decisions at run time (it honours ``NO_COLOR`` and notices pipes);
piped output is plain and never truncated. One module per view:
:mod:`.formats` (list rows), :mod:`.tables`, :mod:`.show`, :mod:`.text`.
"""
