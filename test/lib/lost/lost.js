// lost.js - a Node mysql2 client that reports what it sees when its server goes away mid-statement.
//
//   node lost.js HOST PORT MODE SQL      (LOST_USER, LOST_PASS, LOST_DB; NODE_PATH finds mysql2)
//
// The arguments and the output are those of lost.c (see there); modes: once, loop, stmt
// (connection.execute: a server-side prepared statement), rows (a streamed result, a line a
// row), lazy (a streamed result whose socket is paused from its column definitions until
// stdin has a line). mysql2 names errors rather than numbering them, so the error line is
// "err CODE SQLSTATE ERRNO fatal=BOOL MESSAGE" (CODE e.g. PROTOCOL_CONNECTION_LOST,
// ER_SERVER_SHUTDOWN). mysql2 reports a connection lost under a streamed result (a query
// without a callback) on the connection, not on the query: that error ends the statement
// too. One the connection raises outside any statement is a "connerr CODE MESSAGE" line.
'use strict';

const mysql = require('mysql2');

const [host, portArg, mode, sql] = process.argv.slice(2);
if (!sql || !['once', 'loop', 'stmt', 'rows', 'lazy'].includes(mode)) {
  process.stderr.write('usage: node lost.js HOST PORT once|loop|stmt|rows|lazy SQL\n');
  process.exit(2);
}
const port = Number(portArg);

const say = (line) => process.stdout.write(line + '\n');
const nowMs = () => Number(process.hrtime.bigint() / 1000000n);
const oneLine = (s) => String(s).replace(/\n/g, ' ');
const describe = (e) =>
  `${e.code || '-'} ${e.sqlState || '-'} ${e.errno || '-'} fatal=${Boolean(e.fatal)} ` +
  oneLine(e.message);

let pending = null; // the reject of the statement running, if any

function connect() {
  return new Promise((resolve, reject) => {
    const c = mysql.createConnection({
      host,
      port,
      user: process.env.LOST_USER || 'app',
      password: process.env.LOST_PASS || 'app',
      database: process.env.LOST_DB || 'test',
      connectTimeout: 10000,
    });
    c.once('connect', () => resolve(c));
    c.on('error', (e) => {
      if (!c.threadId) reject(e);
      else if (pending) pending(e);
      else say('connerr ' + describe(e));
    });
  });
}

function run(c) {
  return new Promise((resolve, reject) => {
    pending = reject;
    if (mode === 'stmt') {
      c.execute(sql, (e) => (e ? reject(e) : resolve()));
      return;
    }
    if (mode !== 'rows' && mode !== 'lazy') {
      c.query(sql, (e) => (e ? reject(e) : resolve()));
      return;
    }
    let n = 0;
    c.query(sql)
      .on('fields', () => {
        if (mode !== 'lazy') return;
        c.pause();
        process.stdin.once('data', () => c.resume());
      })
      .on('result', (row) => {
        const v = Object.values(row)[0];
        say(`row ${++n} ${String(v).length}`);
      })
      .on('error', reject)
      .on('end', resolve);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  let c;
  try {
    c = await connect();
    say(`connected ${c.threadId}`);
  } catch (e) {
    say('connect fail ' + describe(e));
    process.exit(1);
  }
  say('sent');
  let n = 0;
  try {
    do {
      await run(c);
      pending = null;
      n++;
      if (mode === 'loop') await sleep(10);
    } while (mode === 'loop');
    say('done');
  } catch (e) {
    pending = null;
    say('err ' + describe(e));
  }
  const tErr = nowMs();
  say(`count ${n}`);
  c.destroy();

  const deadline = nowMs() + 1000 * Number(process.env.LOST_RECONNECT_S || 10);
  let last = '-';
  for (;;) {
    try {
      const r = await connect();
      await new Promise((resolve, reject) => r.query('SELECT 1', (e) => (e ? reject(e) : resolve())));
      r.destroy();
      say(`reconnect ok ${nowMs() - tErr} ${Date.now()}`);
      return;
    } catch (e) {
      last = describe(e);
    }
    if (nowMs() >= deadline) break;
    await sleep(50);
  }
  say('reconnect fail ' + last);
}

main().then(
  () => process.exit(0),
  (e) => {
    say('crash ' + oneLine(e.stack || e));
    process.exit(1);
  },
);
