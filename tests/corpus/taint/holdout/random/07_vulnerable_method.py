# expect: vulnerable random
from random import randrange
import sys


class Holder:
    def unwrap(self, item):
        return item


def run_tool():
    value = Holder().unwrap(sys.argv[1])
    otp = str(randrange(10**6)).zfill(6)
    print(value, otp)
