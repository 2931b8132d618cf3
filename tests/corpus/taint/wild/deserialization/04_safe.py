# expect: safe deserialization
import yaml
import sys


def load_config():
    with open("/etc/app/default.yml") as fh:
        base = yaml.safe_load(fh)
    print(sys.argv[1:])
    return base
