# expect: vulnerable xpath
import xml.etree.ElementTree as ET

from flask import Flask, request

app = Flask(__name__)
TREE = ET.parse("users.xml")


@app.get("/user")
def user():
    name = request.args.get("name", "")
    node = TREE.find(f".//user[@name='{name}']")
    return {"found": node is not None}
