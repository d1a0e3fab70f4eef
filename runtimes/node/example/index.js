// Sample function: reads an optional `id` from a JSON body (default 1), logs it, answers JSON.
// curl -H "x-open-runtimes-secret: secret-key" -H "content-type: application/json" -d '{"id":"7"}' http://localhost:3000/

module.exports = async (context) => {
  const body = context.req.body;
  const id = body !== null && typeof body === 'object' && body.id !== undefined ? body.id : '1';
  context.log(`Example called with id ${id}`);
  return context.res.json({
    message: 'Hello Open Runtimes 👋',
    id,
  });
};
