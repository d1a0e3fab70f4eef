// Imported once by a pool runtime at start (pool.js): it readies Node's ES module loader for files.
export default 0;
