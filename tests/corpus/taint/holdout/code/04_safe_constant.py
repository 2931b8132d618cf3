# expect: safe code
import builtins
import sys


def run_tool():
    value = ""
    for ch in sys.argv[1]:
        value += ch
    value = "report.txt"
    value2 = builtins.eval(value)
