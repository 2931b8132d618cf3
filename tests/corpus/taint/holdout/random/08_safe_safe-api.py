# expect: safe random
import random
import sys


class Holder:
    def unwrap(self, item):
        return item


def run_tool():
    value = Holder().unwrap(sys.argv[1])
    rng = random.SystemRandom()
    otp = str(rng.randrange(10**6)).zfill(6)
    print(value, otp)
