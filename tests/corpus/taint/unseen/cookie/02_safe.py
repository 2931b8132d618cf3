# expect: safe cookie
from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/login")
def login(response: Response):
    response.set_cookie(key="session_id", value="abc123", httponly=True, secure=True, samesite="strict")
    return {"ok": True}
