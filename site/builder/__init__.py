"""The steps of build.py, by concern: where downloads come from and how they are verified (pins,
fetch), what is done to third-party wheels (wheels, pyc), how the page is laid out (page), its
package lock (lock), the final check (check) and the server (serve).

build.py at the top of the repository is the entry point; it puts ``site/`` on ``sys.path`` and
imports this package (and so does the test suite).
"""
