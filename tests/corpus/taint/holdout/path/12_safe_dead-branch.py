# expect: safe path
import io
import sys


def run_tool():
    if (value := sys.argv[1]) is None:
        value = ""
    limit = 10
    if limit > 99:
        handle = io.open("/data/{}".format(value), "rb")
    return None
