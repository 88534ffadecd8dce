import sys

from dmsniff.cli import main

sys.exit(main())
