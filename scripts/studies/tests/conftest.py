import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(os.path.dirname(HERE))
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: runs the real gtl binary (scripts/test-study.sh runs it too)")
