// sess.js - sess.php's line protocol with Node mysql2 (a client outside libmariadb and mysqlnd).
//
//   node sess.js HOST PORT USER PASS      (NODE_PATH finds mysql2; database test)
//
// Prints "connected THREAD_ID MS" or "connect_err MS CODE MSG", then for every line of SQL on
// stdin "ok T0 T1 VALUE" (first column of the first row, "-" if none) or "err T0 T1 ERRNO
// MESSAGE" (ERRNO: the server's, or mysql2's code for a lost connection). "!prepare NAME SQL"
// prepares a server-side statement (connection.prepare), "!execute NAME ARG" executes it with
// one parameter. mysql2 parses binary rows with the column types of the prepare, so a
// statement is used as prepared.
'use strict';

const mysql = require('mysql2');
const readline = require('readline');

const [host, port, user, password] = process.argv.slice(2);
const say = (line) => process.stdout.write(String(line).replace(/[\r\n]/g, ' ') + '\n');
const ms = () => Date.now();
const stmts = {};

const c = mysql.createConnection({host, port: Number(port), user, password, database: 'test',
  connectTimeout: 10000});
let dead = null;
c.on('error', (e) => { dead = e; });

function value(rows) {
  if (!Array.isArray(rows) || rows.length === 0) return '-';
  const v = Object.values(rows[0])[0];
  return v === null || v === undefined ? '-' : String(v);
}

function run(line) {
  return new Promise((resolve) => {
    const t0 = ms();
    const done = (e, rows) => {
      const t1 = ms();
      if (e) say(`err ${t0} ${t1} ${e.errno || e.code} ${e.message}`);
      else say(`ok ${t0} ${t1} ${value(rows)}`);
      resolve();
    };
    if (dead) return done(dead);
    let m = line.match(/^!prepare (\w+) (.+)$/);
    if (m) {
      const name = m[1];
      return c.prepare(m[2], (e, st) => {
        if (!e) stmts[name] = st;
        done(e, null);
      });
    }
    m = line.match(/^!execute (\w+) (.*)$/);
    if (m) {
      const st = stmts[m[1]];
      if (!st) return done(new Error('no statement ' + m[1]));
      return st.execute([m[2]], (e, rows) => done(e, rows));
    }
    c.query(line, (e, rows) => done(e, rows));
  });
}

c.connect((e) => {
  if (e) {
    say(`connect_err ${ms()} ${e.errno || e.code} ${e.message}`);
    process.exit(0);
  }
  say(`connected ${c.threadId} ${ms()}`);
  const rl = readline.createInterface({input: process.stdin});
  let chain = Promise.resolve();
  rl.on('line', (l) => {
    if (l !== '') chain = chain.then(() => run(l));
  });
  rl.on('close', () => chain.then(() => c.destroy()));
});
