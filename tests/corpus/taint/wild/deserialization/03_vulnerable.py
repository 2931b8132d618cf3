# expect: vulnerable deserialization
import yaml
import sys


def load_config():
    path = sys.argv[1]
    with open("/etc/app/" + "default.yml") as fh:
        base = yaml.safe_load(fh)
    override = yaml.load(open(path), Loader=yaml.FullLoader)
    return {**base, **override}
