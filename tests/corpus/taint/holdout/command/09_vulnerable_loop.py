# expect: vulnerable command
from subprocess import Popen
import sys


def run_tool():
    value = ""
    for ch in sys.argv[1]:
        value += ch
    proc = Popen("tar czf backup.tgz %s" % value, shell=True)
