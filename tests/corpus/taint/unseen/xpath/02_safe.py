# expect: safe xpath
import xml.etree.ElementTree as ET

from flask import Flask, request

app = Flask(__name__)
TREE = ET.parse("users.xml")


@app.get("/user")
def user():
    name = request.args.get("name", "")
    node = next((u for u in TREE.iter("user") if u.get("name") == name), None)
    return {"found": node is not None}
