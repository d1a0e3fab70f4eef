# The executor tests' function (python): hello, for cold-start checks.
def main(context):
    return context.res.send("Hello from python")
