// zclient.js - Node mysql2 with compress: true through the proxy: prints what it checks.
//
//   node zclient.js HOST PORT      (NODE_PATH finds mysql2)
//
// Lines: "rows N", "big N MD5", "stmt VALUE", "multi A,B", "blob MD5 MD5", or "error ...".
'use strict';

const crypto = require('crypto');
const mysql = require('mysql2/promise');

const [host, port] = process.argv.slice(2);
const md5 = (b) => crypto.createHash('md5').update(b).digest('hex');

(async () => {
  const c = await mysql.createConnection({
    host, port: Number(port), user: 'app', password: 'app', database: 'test',
    compress: true, multipleStatements: true, connectTimeout: 10000,
  });
  const [rows] = await c.query('SELECT seq, MD5(seq) AS h FROM seq_1_to_30000');
  console.log(`rows ${rows.length}`);
  const [[big]] = await c.query("SELECT REPEAT('nq', 9 * 1024 * 1024) AS v");
  console.log(`big ${big.v.length} ${md5(big.v)}`);
  const [[st]] = await c.execute('SELECT ? + ? AS s', [40, 2]);
  console.log(`stmt ${st.s}`);
  const [multi] = await c.query('SELECT 1 AS a; SELECT 2 AS b');
  console.log(`multi ${multi[0][0].a},${multi[1][0].b}`);
  const blob = crypto.randomBytes(3 * 1024 * 1024);
  await c.query('DROP TABLE IF EXISTS z_node');
  await c.query('CREATE TABLE z_node (b LONGBLOB)');
  await c.execute('INSERT INTO z_node VALUES (?)', [blob]);
  const [[back]] = await c.query('SELECT b, MD5(b) AS m FROM z_node');
  console.log(`blob ${md5(back.b)} ${back.m} ${md5(blob)}`);
  await c.end();
})().catch((e) => {
  console.log(`error ${e.code || '-'} ${String(e.message).replace(/\n/g, ' ')}`);
  process.exit(1);
});
