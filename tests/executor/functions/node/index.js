// The executor tests' function: one behaviour per x-action header.
module.exports = async (context) => {
  const action = context.req.headers['x-action'] || 'hello';
  switch (action) {
    case 'hello':
      return context.res.send('Hello from node');
    case 'echo':
      context.log('echo ' + context.req.method + ' ' + context.req.path);
      return context.res.json({ method: context.req.method, path: context.req.path, query: context.req.queryString, body: context.req.bodyRaw, headers: context.req.headers });
    case 'length':
      return context.res.send(String(Buffer.byteLength(context.req.bodyRaw, 'latin1')));
    case 'binary':
      return context.res.send(Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x41]), 200, { 'content-type': 'application/octet-stream' });
    case 'logs':
      context.log('log line');
      context.error('error line');
      return context.res.send('');
    case 'large-logs': {
      const n = parseInt(context.req.bodyRaw, 10);
      context.log('x'.repeat(n));
      context.error('y'.repeat(n));
      return context.res.send('OK');
    }
    case 'sleep':
      await new Promise((resolve) => setTimeout(resolve, parseInt(context.req.bodyRaw || '1000', 10)));
      return context.res.send('slept');
    case 'status':
      return context.res.send('teapot', 418, { 'x-custom': 'yes' });
    case 'env':
      return context.res.json({ custom: process.env.CUSTOM_VAR ?? null, secret: process.env.OPEN_RUNTIMES_SECRET ?? null, executorSecret: process.env.OPR_EXECUTOR_SECRET ?? null, cpus: process.env.OPEN_RUNTIMES_CPUS ?? null, memory: process.env.OPEN_RUNTIMES_MEMORY ?? null });
    case 'exit':
      process.exit(3);
    default:
      throw new Error('Unknown action');
  }
};
