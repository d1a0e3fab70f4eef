"""Test function of the shared runtime harness (runtimes spec 9.2): async variant."""
import asyncio
import os

MULTIPART_BODY = (
    "--12345\r\n"
    'Content-Disposition: form-data; name="partOne"\r\n'
    "\r\n"
    "Why just have one part?\r\n"
    "--12345\r\n"
    'Content-Disposition: form-data; name="partTwo"\r\n'
    "\r\n"
    "When you can have two!\r\n"
    "--12345--"
)


async def main(context):
    action = context.req.headers.get("x-action")
    req, res = context.req, context.res

    if action == "plaintextResponse":
        return res.send("Hello World 👋")
    if action == "jsonResponse":
        return res.json({"json": True, "message": "Developers are awesome."})
    if action == "customCharsetResponse":
        return res.send("ÅÆ", 200, {"content-type": "text/plain; charset=iso-8859-1"})
    if action == "multipartResponse":
        return res.send(MULTIPART_BODY, 200, {"content-type": "multipart/form-data; boundary=12345"})
    if action == "redirectResponse":
        return res.redirect("https://github.com/")
    if action == "emptyResponse":
        return res.empty()
    if action == "noResponse":
        res.send("This should be ignored, as it is not returned.")
        return None
    if action == "doubleResponse":
        res.send("This should be ignored.")
        return res.send("This should be returned.")
    if action == "headersResponse":
        return res.send("OK", 200, {
            "first-header": "first-value",
            "second-header": req.headers.get("x-open-runtimes-custom-in-header", "missing"),
            "cookie": req.headers.get("cookie", "missing"),
            "x-open-runtimes-custom-out-header": "third-value",
        })
    if action == "statusResponse":
        return res.send("FAIL", 404)
    if action == "requestMethod":
        return res.send(req.method)
    if action == "requestUrl":
        return res.json({
            "url": req.url,
            "port": req.port,
            "path": req.path,
            "query": req.query,
            "queryString": req.query_string,
            "scheme": req.scheme,
            "host": req.host,
        })
    if action == "requestHeaders":
        return res.json(req.headers)
    if action == "requestBodyPlaintext":
        return res.send(req.body)
    if action == "requestBodyJson":
        body = req.body if isinstance(req.body, dict) else {}
        return res.json({
            "key1": body.get("key1", "Missing key"),
            "key2": body.get("key2", "Missing key"),
            "raw": req.body_raw,
        })
    if action == "envVars":
        return res.json({
            "var": os.environ.get("CUSTOM_ENV_VAR"),
            "emptyVar": os.environ.get("NOT_DEFINED_VAR"),
            "secret": os.environ.get("OPEN_RUNTIMES_SECRET"),
        })
    if action == "logs":
        print("Native log")
        context.log("Debug log")
        context.error("Error log")
        context.log("Log+With+Plus+Symbol")
        context.log(42)
        context.log(4.2)
        context.log(True)
        context.log({"objectKey": "objectValue"})
        context.log(["arrayValue"])
        return res.send("")
    if action == "timeout":
        context.log("Timeout start.")
        await asyncio.sleep(3)
        context.log("Timeout end.")
        return res.send("Successful response.")
    if action == "sleep":
        await asyncio.sleep(1)
        return res.send("OK")
    if action == "isolatedLogs":
        token = req.body_raw
        context.log(token)
        print("native-" + token)
        await asyncio.sleep(0.2)
        context.log(token)
        return res.send(token)
    if action == "largeLogs":
        text = "a+👋" * int(req.body_raw)
        context.log(text)
        context.error(text)
        return res.send("OK")
    if action == "bodyLength":
        return res.send(str(len(req.body_raw.encode("utf-8"))))

    raise Exception("Unknown action")
