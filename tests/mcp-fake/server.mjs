// A real MCP server for the mcp_servers e2e suite, made with the official TypeScript SDK.
//
//   node server.mjs --port N [--token T]      (or MCP_FAKE_PORT / MCP_FAKE_TOKEN)
//
// Listens on 127.0.0.1 only. Streamable HTTP, stateful (the SDK's session ids), one SDK Server per session:
//   /mcp          answers requests as an SSE stream (the SDK's default)
//   /mcp-json     answers requests as plain application/json (enableJsonResponse)
//   /mcp-forget   like /mcp, but every odd-numbered session is forgotten at its first request after
//                 initialize (the client sees 404 inside a session and must initialize again)
//   /mcp-auth     like /mcp, but every request needs "Authorization: Bearer <token>" (401 otherwise)
//   /mcp-slow     like /mcp, but every answer comes 250 ms late
//   /mcp-linger   written by hand (the SDK always closes its streams): answers initialize, tools/list and
//                 tools/call (echo) as SSE streams that stay open for 30 s after the response, as the
//                 specification allows; a client must stop reading once its response has arrived
//   /mcp-old      like /mcp-linger, but it answers initialize with protocol version 2024-11-05 (HTTP+SSE era)
//   /mcp-drip     like /mcp-linger, but each answer is 300 progress notifications and then the response (its
//                 JSON cut over two data lines), CRLF line ends, written a few bytes at a time, then the stream ends
//   /stats        {"sessions": N}: the SDK sessions still open (clients end theirs with DELETE)
// tools/list pages two tools at a time (nextCursor). Tools: echo, add (structuredContent), fail (isError),
// picture (an image and a text block), lorem (a long text, or with "blocks": B, B short text blocks).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';

function arg(name, env) {
	const i = process.argv.indexOf(name);
	if (i > 0 && i + 1 < process.argv.length) return process.argv[i + 1];
	return process.env[env];
}

const port = Number(arg('--port', 'MCP_FAKE_PORT'));
const token = arg('--token', 'MCP_FAKE_TOKEN') || 'mcp-fake-token';
if (!Number.isInteger(port) || port < 1 || port > 65535) {
	console.error('usage: node server.mjs --port N [--token T]');
	process.exit(2);
}

// A 1x1 transparent PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

const TOOLS = [
	{
		name: 'echo',
		description: 'Answers with the text it is given',
		inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
	},
	{
		name: 'add',
		description: 'Adds two numbers',
		inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
		outputSchema: { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] },
	},
	{
		name: 'fail',
		description: 'Always reports an error (isError)',
		inputSchema: { type: 'object', properties: {} },
	},
	{
		name: 'picture',
		description: 'Answers with an image and a caption',
		inputSchema: { type: 'object', properties: {} },
	},
	{
		name: 'lorem',
		description: 'Answers with N repetitions of a sentence',
		inputSchema: { type: 'object', properties: { n: { type: 'integer' }, blocks: { type: 'integer' } } },
	},
];
const PAGE = 2;

function newServer() {
	const server = new Server({ name: 'agentplatform-mcp-fake', version: '1.0.0' }, { capabilities: { tools: {} } });
	server.setRequestHandler(ListToolsRequestSchema, async (req) => {
		const cursor = req.params?.cursor;
		let start = 0;
		if (cursor !== undefined) {
			start = Number(/^p(\d+)$/.exec(cursor)?.[1] ?? NaN);
			if (!Number.isInteger(start) || start <= 0 || start >= TOOLS.length)
				throw new McpError(ErrorCode.InvalidParams, 'invalid cursor');
		}
		const tools = TOOLS.slice(start, start + PAGE);
		const next = start + PAGE < TOOLS.length ? `p${start + PAGE}` : undefined;
		return next ? { tools, nextCursor: next } : { tools };
	});
	server.setRequestHandler(CallToolRequestSchema, async (req) => {
		const a = req.params.arguments ?? {};
		switch (req.params.name) {
		case 'echo':
			return { content: [{ type: 'text', text: String(a.text ?? '') }] };
		case 'add': {
			const sum = Number(a.a) + Number(a.b);
			return { content: [{ type: 'text', text: `${a.a} + ${a.b} = ${sum}` }], structuredContent: { sum } };
		}
		case 'fail':
			return { content: [{ type: 'text', text: 'the tool failed on purpose' }], isError: true };
		case 'picture':
			return {
				content: [
					{ type: 'image', data: PNG, mimeType: 'image/png' },
					{ type: 'text', text: 'a transparent pixel' },
				],
			};
		case 'lorem':
			if (a.blocks !== undefined) {
				const b = Math.min(Math.max(Number(a.blocks) || 0, 0), 100000);
				return { content: Array.from({ length: b }, (_, i) => ({ type: 'text', text: `block ${i + 1}` })) };
			}
			return { content: [{ type: 'text', text: 'Lorem ipsum dolor sit amet. '.repeat(Math.min(Number(a.n) || 1, 100000)) }] };
		default:
			throw new McpError(ErrorCode.InvalidParams, `unknown tool: ${req.params.name}`);
		}
	});
	return server;
}

const sessions = new Map(); // session id -> { transport, forget }
let forgetCount = 0;

function readBody(req) {
	return new Promise((resolve, reject) => {
		const chunks = [];
		let n = 0;
		req.on('data', (c) => {
			n += c.length;
			if (n > 1 << 20) {
				reject(new Error('too large'));
				req.destroy();
			} else chunks.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

function jsonError(res, status, message) {
	res.writeHead(status, { 'Content-Type': 'application/json' });
	res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

// A few bytes at a time, each write in a turn of its own (so they leave as separate chunks), then the end.
async function drip(res, text) {
	const buf = Buffer.from(text, 'utf8');
	for (let i = 0; i < buf.length; i += 7) {
		res.write(buf.subarray(i, i + 7));
		await new Promise((resolve) => setImmediate(resolve));
	}
	res.end();
}

// The /mcp-linger server: one SSE event with the response, then the stream stays open (/mcp-drip: see above).
async function linger(req, res, version, dripping) {
	if (req.method === 'DELETE') return res.writeHead(200).end();
	if (req.method !== 'POST') return jsonError(res, 405, 'Method not allowed');
	let msg;
	try {
		msg = JSON.parse(await readBody(req));
	} catch {
		return jsonError(res, 400, 'Parse error');
	}
	if (msg.id === undefined) return res.writeHead(202).end();
	let result;
	if (msg.method === 'initialize')
		result = {
			protocolVersion: version ?? msg.params?.protocolVersion ?? '2025-06-18',
			capabilities: { tools: {} },
			serverInfo: { name: 'linger', version: '1.0.0' },
		};
	else if (msg.method === 'tools/list') result = { tools: [TOOLS[0]] };
	else if (msg.method === 'tools/call' && msg.params?.name === 'echo')
		result = { content: [{ type: 'text', text: String(msg.params.arguments?.text ?? '') }] };
	const body = result
		? { jsonrpc: '2.0', id: msg.id, result }
		: { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'not here' } };
	const headers = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
	if (msg.method === 'initialize') headers['Mcp-Session-Id'] = randomUUID();
	res.writeHead(200, headers);
	if (dripping) {
		let text = ': dripping stream\r\n\r\n';
		for (let i = 0; i < 300; i++)
			text += `event: message\r\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: msg.id, progress: i } })}\r\n\r\n`;
		const json = JSON.stringify(body);
		const cut = json.indexOf(',') + 1;
		text += `data: ${json.slice(0, cut)}\r\ndata: ${json.slice(cut)}\r\n\r\n`;
		return await drip(res, text);
	}
	res.write(': lingering stream\n\n');
	res.write(`event: message\ndata: ${JSON.stringify(body)}\n\n`);
	const timer = setTimeout(() => res.end(), 30000);
	res.on('close', () => clearTimeout(timer));
}

const httpServer = http.createServer(async (req, res) => {
	try {
		const path = new URL(req.url, 'http://127.0.0.1').pathname;
		if (path === '/mcp-linger') return await linger(req, res);
		if (path === '/mcp-old') return await linger(req, res, '2024-11-05');
		if (path === '/mcp-drip') return await linger(req, res, undefined, true);
		if (path === '/stats') {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			return res.end(JSON.stringify({ sessions: sessions.size }));
		}
		const routes = {
			'/mcp': {},
			'/mcp-json': { json: true },
			'/mcp-forget': { forget: true },
			'/mcp-auth': { auth: true },
			'/mcp-slow': { slow: true },
		};
		const route = routes[path];
		if (!route) return jsonError(res, 404, 'not found');
		if (route.slow) await new Promise((resolve) => setTimeout(resolve, 250));
		if (route.auth && req.headers.authorization !== `Bearer ${token}`) {
			res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer' });
			return res.end(JSON.stringify({ error: 'unauthorized' }));
		}
		let body;
		if (req.method === 'POST') {
			const text = await readBody(req);
			try {
				body = JSON.parse(text);
			} catch {
				return jsonError(res, 400, 'Parse error');
			}
		}
		const sid = req.headers['mcp-session-id'];
		if (sid) {
			const s = sessions.get(sid);
			if (!s) return jsonError(res, 404, 'Session not found');
			if (s.forget && body && body.method && body.id !== undefined && body.method !== 'initialize') {
				// Forgotten once, at the first request after initialize: the client must start again.
				sessions.delete(sid);
				s.transport.close().catch(() => {});
				return jsonError(res, 404, 'Session not found');
			}
			return await s.transport.handleRequest(req, res, body);
		}
		if (req.method !== 'POST' || !body || body.method !== 'initialize')
			return jsonError(res, 400, 'Bad Request: no valid session id');
		const forget = !!route.forget && forgetCount++ % 2 === 0;
		const transport = new StreamableHTTPServerTransport({
			sessionIdGenerator: () => randomUUID(),
			enableJsonResponse: !!route.json,
			onsessioninitialized: (id) => sessions.set(id, { transport, forget }),
			onsessionclosed: (id) => sessions.delete(id),
		});
		transport.onclose = () => {
			if (transport.sessionId) sessions.delete(transport.sessionId);
		};
		await newServer().connect(transport);
		await transport.handleRequest(req, res, body);
	} catch (e) {
		console.error('mcp-fake:', e);
		if (!res.headersSent) jsonError(res, 500, 'internal error');
	}
});

httpServer.listen(port, '127.0.0.1', () => console.log(`mcp-fake listening on 127.0.0.1:${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
