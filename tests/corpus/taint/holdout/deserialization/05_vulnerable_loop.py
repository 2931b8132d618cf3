# expect: vulnerable deserialization
import jsonpickle
import sys


def run_tool():
    value = ""
    for ch in sys.argv[1]:
        value += ch
    item = jsonpickle.decode(value)
