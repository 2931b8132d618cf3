# expect: safe deserialization
import jsonpickle
import sys


def run_tool():
    value = ""
    for ch in sys.argv[1]:
        value += ch
    limit = 10
    if limit > 99:
        item = jsonpickle.decode(value)
    return None
