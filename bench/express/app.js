// Express 5 with the same chains as bench/apps.py, written the way mia.js wires routes: one middleware
// per step (preconditions -> controller -> JSON output). Data lives in process memory (Node has no
// mongomock); the Python stacks read an in-process store, so neither side pays a network hop.
"use strict";
const crypto = require("crypto");
const express = require("express");

const FLAVOURS = ["cookies and cream", "vanilla", "strawberry"];
const STATIC_KEY = "9cd43d5622a2fa78b67b3412a2d8c614";
const DEVICE_ID = "0123456789abcdef0123456789abcdef";
const SECRETS = {"91205b43c5144068ee9979b093925f77": "74168c7a1868ddeee3355fab9489914b"};
const TODO_ID = "65a1b2c3d4e5f60718293a4b";
const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");
const names = ["Get this demo done", "Go out for lunch", "Buy some milk", "Call mum", "Write tests"];
const todos = names.map((name, i) => ({_id: i === 0 ? TODO_ID : crypto.randomBytes(12).toString("hex"), name,
  status: "unchecked", group: "demo", created: now, lastModified: now}));
const devices = [{id: "f".repeat(32), status: "active", access: {key: STATIC_KEY, cidr: ["0.0.0.0/0"]}},
                 {id: DEVICE_ID, status: "active"}];
const nonces = new Set();
const app = express();
app.disable("x-powered-by");
app.disable("etag");
// Access log on (bench/run.py's "logs on" table): morgan, as Express users log requests, to stdout.
if (process.env.ACCESS_LOG === "1") app.use(require("morgan")("combined"));

function fail(res, status, errors) { res.status(status).json({status, errors}); }

// -- full chain: precondition -> controller -> output
function flavourPrecondition(req, res, next) {
  const flavour = req.query.flavour;
  if (typeof flavour !== "string") return fail(res, 400, [{code: "MissingRequiredParameter", id: "flavour"}]);
  const value = flavour.toLowerCase();
  if (!FLAVOURS.includes(value)) return fail(res, 400, [{code: "ValueNotAllowed", id: "flavour"}]);
  req.validated = {query: {flavour: value}};
  next();
}
function flavourController(req, res, next) { res.locals.response = `I love ${req.validated.query.flavour} icecream`; next(); }
function cors(req, res, next) {
  res.set({"Access-Control-Allow-Origin": req.get("Origin") || "*", "Access-Control-Allow-Headers": "Content-Type",
           "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": req.method});
  next();
}
function output(req, res) { res.json({status: 200, response: res.locals.response}); }
app.get("/icecream/v1/flavours", cors, flavourPrecondition, flavourController, output);

// -- static key / v2 signature -> list
function validateAccessKey(req, res, next) {
  res.set("timestamp", String(Date.now()));
  const key = req.get("key");
  if (!key) return fail(res, 400, [{code: "MissingRequiredParameter", id: "key"}]);
  if (key.length === 32) {
    const device = devices.find((d) => d.access && d.access.key === key);
    if (!device || device.status !== "active") return fail(res, 401, [{code: "KeyInvalid"}]);
    req.device = device;
    return next();
  }
  const [deviceId, secretId, stamp, signature] = [key.slice(0, 32), key.slice(32, 64), key.slice(64, 74), key.slice(74)];
  const nonce = req.get("nonce") || "";
  if (Math.abs(Number(stamp) - Math.floor(Date.now() / 1000)) > 300 || nonce.length < 16) return fail(res, 401, [{code: "KeyExpired"}]);
  const secret = SECRETS[secretId];
  if (!secret) return fail(res, 401, [{code: "KeyInvalid"}]);
  const canonical = ["MIA-HMAC-SHA256", deviceId, secretId, stamp, nonce, req.method, `http://${req.get("host")}`,
                     req.originalUrl, req.get("content-type") || "",
                     crypto.createHash("sha256").update("").digest("hex")].join("\n");
  const expected = crypto.createHmac("sha256", secret).update(canonical).digest("hex");
  if (expected.length !== signature.length || !crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature)))
    return fail(res, 401, [{code: "KeyInvalid"}]);
  if (nonces.has(deviceId + nonce)) return fail(res, 401, [{code: "NonceReused"}]);
  nonces.add(deviceId + nonce);
  req.device = devices.find((d) => d.id === deviceId);
  if (!req.device) return fail(res, 401, [{code: "DeviceIdInvalid"}]);
  next();
}
function listPrecondition(req, res, next) {
  const limit = req.query.limit === undefined ? 25 : Number(req.query.limit);
  const skip = req.query.skip === undefined ? 0 : Number(req.query.skip);
  const sort = req.query.sort || "created";
  if (!Number.isInteger(limit) || limit < 0 || limit > 100) return fail(res, 400, [{code: "ValueOutOfRange", id: "limit"}]);
  if (!Number.isInteger(skip) || skip < 0) return fail(res, 400, [{code: "ValueOutOfRange", id: "skip"}]);
  if (!["name", "status", "created", "lastModified"].includes(sort)) return fail(res, 400, [{code: "ValueNotAllowed", id: "sort"}]);
  req.validated = {query: {limit: limit || 25, skip, sort, ascending: req.query.ascending !== "false"}};
  next();
}
function checkAccess(req, res, next) { req.accessChecked = true; next(); }
function listTodos(req, res, next) {
  const {limit, skip, sort, ascending} = req.validated.query;
  const dir = ascending ? 1 : -1;
  const sorted = [...todos].sort((a, b) => (a[sort] < b[sort] ? -dir : a[sort] > b[sort] ? dir : (a._id < b._id ? -dir : dir)));
  res.set("About", "This is a demo api");
  res.locals.response = sorted.slice(skip, skip + limit);
  next();
}
app.get("/demo-auth/v1/todo", validateAccessKey, listPrecondition, checkAccess, listTodos, output);

// -- one read by id
app.get("/demo/v1/todo/:id", (req, res, next) => {
  if (!/^[0-9a-fA-F]{24}$/.test(req.params.id)) return fail(res, 400, [{code: "PatternMismatch", id: "id"}]);
  const found = todos.find((t) => t._id === req.params.id.toLowerCase());
  res.set("About", "This is a demo api");
  res.locals.response = found ? [found] : [];
  next();
}, output);

// -- validated JSON POST
function rulesPrecondition(req, res, next) {
  const body = req.body || {};
  const errors = [];
  if (typeof body.name !== "string" || body.name.length < 2 || body.name.length > 40) errors.push({code: "MissingRequiredParameter", id: "name"});
  if (body.age !== undefined && body.age !== null && (!Number.isInteger(body.age) || body.age < 0 || body.age > 150)) errors.push({code: "UnexpectedType", id: "age"});
  if (body.email !== undefined && (typeof body.email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(body.email))) errors.push({code: "PatternMismatch", id: "email"});
  const address = body.address || {};
  if (typeof address.city !== "string") errors.push({code: "MissingRequiredParameter", id: "address.city"});
  else if (address.zip !== undefined && !/^\d{5}$/.test(String(address.zip))) errors.push({code: "PatternMismatch", id: "address.zip"});
  for (const item of Array.isArray(body.items) ? body.items : []) if (typeof item.sku !== "string") errors.push({code: "MissingRequiredParameter", id: "items.sku"});
  if (!/^[a-z]{2}\d{2}$/i.test(req.params.code)) errors.push({code: "PatternMismatch", id: "code"});
  if (errors.length) return fail(res, 400, errors);
  req.validated = {query: {limit: 25, sort: "created"}, path: {code: req.params.code.toUpperCase()},
                   body: {...body, email: body.email && body.email.toLowerCase()}};
  next();
}
app.post("/icecream/v1/rules/:code", express.json({limit: "512kb", strict: true}), rulesPrecondition,
         (req, res, next) => { res.locals.response = req.validated; next(); }, output);

app.use((req, res) => fail(res, 404, [{code: "NotFound"}]));
const port = Number(process.env.PORT || 3000);
app.listen(port, "127.0.0.1", () => console.log(`express listening on ${port}`));
