// Artillery's processor for me.yml: each virtual user logs in once as a random one of the server's users and keeps
// the credential its login gave (a session cookie or a bearer token), then sends it with every GET /me.
// CommonJS: Artillery loads a processor with require().

/** Before the login: the user this virtual user is (user1 ... userN, N the server's users: USERS, default 1000; password pw-userN). */
function pickUser(context, _events, done) {
  const user = 1 + Math.floor(Math.random() * Number(process.env.USERS || 1000))
  context.vars.username = `user${user}`
  context.vars.password = `pw-user${user}`
  return done()
}

/** After the login: 204 with a Set-Cookie (a session) or 200 with an access token (a JWT); anything else fails the user. */
function keepCredential(_req, res, context, _events, done) {
  const setCookie = [].concat(res.headers['set-cookie'] ?? [])[0]
  const pair = /^\s*([^=;\s]+)=([^;]*)/.exec(setCookie ?? '')
  if (res.statusCode === 204 && pair) context.vars.credential = { cookie: `${pair[1]}=${pair[2]}` }
  else if (res.statusCode === 200) context.vars.credential = { authorization: `Bearer ${JSON.parse(res.body).access_token}` }
  else return done(new Error(`login of ${context.vars.username}: status ${res.statusCode}`))
  return done()
}

/** Before each GET /me: the credential in its header, as any client sends it (not also from Artillery's cookie jar). */
function sendCredential(req, context, _events, done) {
  delete req.cookieJar
  req.headers = { ...req.headers, ...context.vars.credential }
  return done()
}

module.exports = { pickUser, keepCredential, sendCredential }
