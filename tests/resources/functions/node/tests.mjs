// Test function of the runtime harness (runtimes spec 9.2), ES module variant.
// tests.js is the same function as CommonJS; keep the two in step.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default async (context) => {
  const { req, res } = context;
  const action = req.headers['x-action'];

  switch (action) {
    case 'plaintextResponse':
      return res.send('Hello World 👋');
    case 'jsonResponse':
      return res.json({ json: true, message: 'Developers are awesome.' });
    case 'customCharsetResponse':
      return res.send('ÅÆ', 200, { 'content-type': 'text/plain; charset=iso-8859-1' });
    case 'multipartResponse':
      return res.send(
        '--12345\r\n'
          + 'Content-Disposition: form-data; name="partOne"\r\n'
          + '\r\n'
          + 'Why just have one part?\r\n'
          + '--12345\r\n'
          + 'Content-Disposition: form-data; name="partTwo"\r\n'
          + '\r\n'
          + 'When you can have two!\r\n'
          + '--12345--',
        200,
        { 'content-type': 'multipart/form-data; boundary=12345' },
      );
    case 'redirectResponse':
      return res.redirect('https://github.com/');
    case 'emptyResponse':
      return res.empty();
    case 'noResponse':
      res.send('This should be ignored, as it is not returned.');
      return undefined;
    case 'doubleResponse':
      res.send('This should be ignored.');
      return res.send('This should be returned.');
    case 'headersResponse':
      return res.send('OK', 200, {
        'first-header': 'first-value',
        'second-header': req.headers['x-open-runtimes-custom-in-header'] || 'missing',
        cookie: req.headers.cookie || 'missing',
        'x-open-runtimes-custom-out-header': 'third-value',
      });
    case 'statusResponse':
      return res.send('FAIL', 404);
    case 'requestMethod':
      return res.send(req.method);
    case 'requestUrl':
      return res.json({
        url: req.url,
        port: req.port,
        path: req.path,
        query: req.query,
        queryString: req.queryString,
        scheme: req.scheme,
        host: req.host,
      });
    case 'requestHeaders':
      return res.json(req.headers);
    case 'requestBodyPlaintext':
      return res.send(req.body);
    case 'requestBodyJson': {
      const isMap = req.body !== null && typeof req.body === 'object' && !Array.isArray(req.body);
      return res.json({
        key1: isMap && 'key1' in req.body ? req.body.key1 : 'Missing key',
        key2: isMap && 'key2' in req.body ? req.body.key2 : 'Missing key',
        raw: req.bodyRaw,
      });
    }
    case 'envVars':
      return res.json({
        var: process.env.CUSTOM_ENV_VAR ?? null,
        emptyVar: process.env.NOT_DEFINED_VAR ?? null,
        secret: process.env.OPEN_RUNTIMES_SECRET ?? null,
      });
    case 'logs':
      console.log('Native log');
      context.log('Debug log');
      context.error('Error log');
      context.log('Log+With+Plus+Symbol');
      context.log(42);
      context.log(4.2);
      context.log(true);
      context.log({ objectKey: 'objectValue' });
      context.log(['arrayValue']);
      return res.send('');
    case 'timeout':
      context.log('Timeout start.');
      await sleep(3000);
      context.log('Timeout end.');
      return res.send('Successful response.');
    case 'sleep':
      await sleep(1000);
      return res.send('OK');
    case 'isolatedLogs': {
      const token = req.bodyRaw;
      context.log(token);
      console.log(`native-${token}`);
      await sleep(200);
      context.log(token);
      return res.send(token);
    }
    case 'largeLogs': {
      const text = 'a+👋'.repeat(Number(req.bodyRaw));
      context.log(text);
      context.error(text);
      return res.send('OK');
    }
    case 'bodyLength':
      return res.send(String(Buffer.byteLength(req.bodyRaw, 'utf8')));
    default:
      throw new Error('Unknown action');
  }
};
