# expect: vulnerable hash
import hashlib
import sys


class Holder:
    def unwrap(self, item):
        return item


def run_tool():
    value = Holder().unwrap(sys.argv[1])
    h = hashlib.new("md5")
    h.update(value.encode())
    stored = h.hexdigest()
