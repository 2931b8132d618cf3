# expect: vulnerable path
import io
import sys


def run_tool():
    if (value := sys.argv[1]) is None:
        value = ""
    handle = io.open("/data/{}".format(value), "rb")
