import sys

from jaxshift.cli import main

sys.exit(main())
