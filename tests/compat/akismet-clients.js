// Drive raqibd with Akismet client libraries nobody here wrote: the npm
// packages `akismet-api` (6.x) and `akismet` (2.x), installed by akismet.t
// into a temporary folder (NODE_PATH). Prints one JSON object with what each
// client itself parsed from Raqib's answers; akismet.t asserts on it.
//
// Env: RAQIB_PORT, AKISMET_KEY, AKISMET_BLOG.
//
// Both clients put the key in the Host name (KEY.HOST) for comment-check and
// the submit calls, as they do with KEY.rest.akismet.com. We give them the
// host "localhost", and make every *.localhost name resolve to 127.0.0.1 in
// this process (what a wildcard DNS record does for a real deployment).
'use strict';

const dns = require('dns');
const realLookup = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (typeof options === 'number') options = { family: options };
  if (/(^|\.)localhost$/i.test(hostname)) {
    if (options && options.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(callback, null, '127.0.0.1', 4);
  }
  return realLookup.call(dns, hostname, options, callback);
};

const { AkismetClient } = require('akismet-api');
const akismetPkg = require('akismet');

const port = process.env.RAQIB_PORT;
const key = process.env.AKISMET_KEY;
const blog = process.env.AKISMET_BLOG;

const comments = {
  spam_ar: {
    ip: '192.0.2.11', useragent: 'Mozilla/5.0', name: 'الشيخ أبو علي', email: 'healer@example.net',
    content: 'شيخ روحاني لجلب الحبيب واتساب 00966551234567', permalink: 'https://news.example.com/2025/11/a',
  },
  ham_ar: {
    ip: '192.0.2.12', useragent: 'Mozilla/5.0', name: 'ليلى', email: 'layla@example.com',
    content: 'مقال رائع، شكرا على المعلومات المفيدة', permalink: 'https://news.example.com/2025/11/a',
  },
  spam_en: {
    ip: '192.0.2.13', useragent: 'Mozilla/5.0', name: 'Cheap Pills', email: 'pills@example.net',
    content: 'Buy cheap viagra online now http://a.example http://b.example http://c.example casino bonus',
    permalink: 'https://news.example.com/2025/11/b',
  },
  ham_en: {
    ip: '192.0.2.14', useragent: 'Mozilla/5.0', name: 'John', email: 'john@example.com',
    content: 'Great article, thanks for the clear explanation.', permalink: 'https://news.example.com/2025/11/b',
  },
};

// The same comments in Akismet's own parameter names (for the `akismet` package).
function akismetNames(c, ipSuffix) {
  return {
    user_ip: c.ip.replace(/\d+$/, ipSuffix), user_agent: c.useragent, comment_author: c.name,
    comment_author_email: c.email.replace('@', '+2@'), comment_content: c.content + ' (2)', permalink: c.permalink,
    comment_type: 'comment',
  };
}

function withTimeout(promise, what, ms = 60000) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

async function settle(what, fn) {
  try {
    return { ok: true, value: await withTimeout(fn(), what) };
  } catch (err) {
    return { ok: false, error: String(err && err.message ? err.message : err) };
  }
}

function cb(fn) {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

async function main() {
  const out = { akismet_api: {}, akismet: {} };

  // --- akismet-api: key in the body for verify-key, in the Host name after.
  const client = new AkismetClient({ key, blog, host: `localhost:${port}`, protocol: 'http', lang: 'ar, en' });
  const wrong = new AkismetClient({ key: 'wrong-key', blog, host: `localhost:${port}`, protocol: 'http' });
  const a = out.akismet_api;
  a.verify_key = await settle('verifyKey', () => client.verifyKey());
  a.verify_wrong_key = await settle('verifyKey (wrong)', () => wrong.verifyKey());
  for (const [name, c] of Object.entries(comments))
    a[`check_${name}`] = await settle(`checkSpam ${name}`, () => client.checkSpam(c));
  a.check_is_test = await settle('checkSpam isTest', () =>
    client.checkSpam({ ...comments.spam_en, ip: '192.0.2.99', content: 'is_test ' + comments.spam_en.content, isTest: true }));
  a.check_wrong_key = await settle('checkSpam (wrong)', () => wrong.checkSpam(comments.ham_en));
  a.check_no_ip = await settle('checkSpam without ip', () => client.checkSpam({ content: 'no ip here' }));
  a.submit_spam = await settle('submitSpam', () => client.submitSpam(comments.ham_en).then(() => 'resolved'));
  a.submit_ham = await settle('submitHam', () => client.submitHam(comments.spam_ar).then(() => 'resolved'));

  // --- akismet (oozcitak): callbacks; key in the body for verifyKey, Host after.
  const k = akismetPkg.client({ blog, apiKey: key, host: 'localhost', port: Number(port) });
  const kwrong = akismetPkg.client({ blog, apiKey: 'wrong-key', host: 'localhost', port: Number(port) });
  const b = out.akismet;
  b.verify_key = await settle('verifyKey', () => cb(done => k.verifyKey(done)));
  b.verify_wrong_key = await settle('verifyKey (wrong)', () => cb(done => kwrong.verifyKey(done)));
  b.check_spam_ar = await settle('checkComment spam_ar', () => cb(done => k.checkComment(akismetNames(comments.spam_ar, '21'), done)));
  b.check_ham_ar = await settle('checkComment ham_ar', () => cb(done => k.checkComment(akismetNames(comments.ham_ar, '22'), done)));
  b.check_spam_en = await settle('checkComment spam_en', () => cb(done => k.checkComment(akismetNames(comments.spam_en, '23'), done)));
  b.check_ham_en = await settle('checkComment ham_en', () => cb(done => k.checkComment(akismetNames(comments.ham_en, '24'), done)));
  b.submit_spam = await settle('submitSpam', () => cb(done => k.submitSpam(akismetNames(comments.ham_ar, '22'), err => done(err, 'done'))));
  b.submit_ham = await settle('submitHam', () => cb(done => k.submitHam(akismetNames(comments.spam_en, '23'), err => done(err, 'done'))));

  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(err => {
  process.stderr.write(`compat driver failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
