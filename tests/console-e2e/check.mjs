// Drives the real Beaver IoT web console (v1.1.1), served by a running Weir, in headless
// Chromium, the way a new user would, and records every API call the console made that
// Weir refused. It prints one line per step and exits non-zero when a step failed or a call
// was refused. See docs/console.md ("Trying the console in a browser").
//
//   WEIR_URL=http://127.0.0.1:9200 node tests/console-e2e/check.mjs
//
// Variables: WEIR_URL (default http://127.0.0.1:9200), CHROMIUM (default /usr/bin/chromium),
// CONSOLE_EMAIL / CONSOLE_PASSWORD (default the README's admin), SHOTS (a folder for a
// screenshot after each step; none when unset). Run it against a fresh server (it registers
// the first user) or one whose admin is CONSOLE_EMAIL.

import puppeteer from 'puppeteer-core';
import { mkdirSync } from 'node:fs';

const base = process.env.WEIR_URL ?? 'http://127.0.0.1:9200';
const email = process.env.CONSOLE_EMAIL ?? 'admin@example.com';
const password = process.env.CONSOLE_PASSWORD ?? 'Admin-Passw0rd';
const shots = process.env.SHOTS;
if (shots) mkdirSync(shots, { recursive: true });
// Names unique to this run, so the check can run again against the same server.
const run = Date.now().toString(36);

const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const failures = [];
const page = await browser.newPage();
await page.setViewport({ width: 1440, height: 900 });

// Every API answer the console got: a status of 400 or more, or the native envelope's
// status other than Success, is a failure of the step that caused it.
let where = 'start';
page.on('response', async res => {
    const url = new URL(res.url());
    if (!url.pathname.startsWith('/api/')) return;
    let envelope;
    try {
        envelope = await res.json();
    } catch {
        envelope = undefined;
    }
    if (res.status() >= 400 || (envelope?.status && envelope.status !== 'Success')) {
        const code = envelope?.error_code ?? '';
        const message = envelope?.error_message ?? '';
        failures.push(`${where}: ${res.request().method()} ${url.pathname} -> ${res.status()} ${code} ${message}`);
    }
});
page.on('pageerror', err => failures.push(`${where}: page error: ${err.message}`));

const settle = () => page.waitForNetworkIdle({ idleTime: 500, timeout: 15000 }).catch(() => {});
const pause = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Clicks the first element matching `selector` whose text matches `text`; false if none. */
async function clickText(selector, text) {
    for (const el of await page.$$(selector)) {
        if (text.test(await el.evaluate(n => n.textContent ?? ''))) {
            await el.click();
            await settle();
            return true;
        }
    }
    return false;
}

/** Clicks the innermost element matching `selector` whose text matches `text` (where an
 *  outer element's text matches too, its centre may be another control). */
async function clickDeepest(selector, text) {
    for (const el of (await page.$$(selector)).reverse()) {
        if (text.test(await el.evaluate(n => n.textContent ?? ''))) {
            await el.click();
            await settle();
            return true;
        }
    }
    return false;
}

/** Waits until the page shows `text` (a string) somewhere; false after `ms` (10 s). */
async function shows(text, ms = 10000) {
    return page
        .waitForFunction(t => document.body.innerText.includes(t), { timeout: ms }, text)
        .then(() => true)
        .catch(() => false);
}

/** Calls Weir's API as the signed-in user (the token the console keeps). */
async function api(method, path, body) {
    return page.evaluate(
        async (method, path, body) => {
            const stored = JSON.parse(localStorage.getItem('mos.token') ?? 'null');
            const token = stored?.value?.access_token ?? stored?.access_token;
            const res = await fetch(`/api/v1${path}`, {
                method,
                headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
                body: body === undefined ? undefined : JSON.stringify(body),
            });
            return res.json();
        },
        method,
        path,
        body,
    );
}

/** Runs one step: prints ok or FAIL, and keeps what failed. */
async function step(name, body) {
    where = name;
    const before = failures.length;
    let ok;
    try {
        ok = (await body()) !== false;
    } catch (err) {
        failures.push(`${name}: ${err.message}`);
        ok = false;
    }
    if (!ok && failures.length === before) failures.push(`${name}: did not happen`);
    console.log(`${ok && failures.length === before ? 'ok  ' : 'FAIL'} ${name}`);
    if (shots) await page.screenshot({ path: `${shots}/${name.replace(/[^a-z0-9]+/gi, '_')}.png` });
}

await step('register the first user (or find one)', async () => {
    await page.goto(`${base}/auth/register`, { waitUntil: 'networkidle2' });
    await settle();
    if (!page.url().includes('/auth/register')) return true;
    // The form's inputs, in order: email, username, password, confirm password.
    const [emailBox, nameBox, passwordBox, confirmBox] = await page.$$('.ms-auth-form input');
    await emailBox.type(email);
    await nameBox.type('admin');
    await passwordBox.type(password);
    await confirmBox.type(password);
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => !location.pathname.startsWith('/auth/register'), { timeout: 15000 });
    await settle();
});

await step('sign in', async () => {
    if (!page.url().includes('/auth/login')) await page.goto(`${base}/auth/login`, { waitUntil: 'networkidle2' });
    await settle();
    const [emailBox, passwordBox] = await page.$$('.ms-auth-form input');
    await emailBox.type(email);
    await passwordBox.type(password);
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => !location.pathname.startsWith('/auth'), { timeout: 15000 });
    await settle();
});

// Each page opened by a navigation (a bookmark), then reloaded: the console, not Weir's 404.
for (const path of ['/dashboard', '/device', '/entity', '/workflow', '/integration', '/user-role']) {
    await step(`open and reload ${path}`, async () => {
        for (const how of ['open', 'reload']) {
            const res =
                how === 'open'
                    ? await page.goto(`${base}${path}`, { waitUntil: 'networkidle2' })
                    : await page.reload({ waitUntil: 'networkidle2' });
            await settle();
            const type = res?.headers()['content-type'] ?? '';
            const rendered = await page.evaluate(() => document.querySelector('#root')?.childElementCount ?? 0);
            // A reload may be answered 304 (index.html revalidated).
            if (![200, 304].includes(res?.status()) || !type.startsWith('text/html') || rendered === 0) {
                failures.push(`${how} ${path}: ${res?.status()} ${type}, #root children ${rendered}`);
            }
        }
    });
}

// Device → Add → HTTP device, name and identifier typed in the dialog.
const deviceName = `e2e device ${run}`;
let deviceId;
await step('add a device in the Device page', async () => {
    await page.goto(`${base}/device`, { waitUntil: 'networkidle2' });
    await settle();
    if (!(await clickText('button', /^\s*Add\s*$/))) throw new Error('no Add button');
    await page.click('[role="dialog"] [role="combobox"]');
    await settle();
    if (!(await clickText('li[role="option"]', /HTTP device/))) throw new Error('no HTTP device integration');
    const [nameBox, identifierBox] = await page.$$('[role="dialog"] input[type="text"]');
    await nameBox.type(deviceName);
    await identifierBox.type(`e2e-${run}`);
    if (!(await clickText('[role="dialog"] button', /confirm/i))) throw new Error('no Confirm button');
    if (!(await shows(deviceName))) return false;
    const found = await api('POST', '/device/search', { name: deviceName, page_number: 1, page_size: 10 });
    deviceId = found.data?.content?.[0]?.id;
    return Boolean(deviceId);
});

// The device reports (with a token issued through the API, as its owner would), and its
// detail page lists the entities the report created.
await step("see the device's entities after it reports", async () => {
    const issued = await api('POST', `/device/${deviceId}/token`);
    const res = await fetch(`${base}/api/v1/device/report`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Device-Token': issued.data.token },
        body: JSON.stringify({ temperature: 21.5, humidity: 40 }),
    });
    if (!res.ok) throw new Error(`report answered ${res.status}`);
    await page.goto(`${base}/device/detail/${deviceId}`, { waitUntil: 'networkidle2' });
    await settle();
    if (!(await clickText('[role="tab"]', /Entity Data/i))) throw new Error('no Entity Data tab');
    return (await shows('temperature')) && (await shows('humidity'));
});

// Dashboard → + → a new dashboard → Card → the device's temperature → Save; the widget
// survives a reload and shows the next value the device reports without one. (The console
// gathers WebSocket pushes and hands them to its widgets every 10 s: BATCH_PUSH_TIME.)
await step('add a dashboard widget that survives a reload and updates live', async () => {
    const board = `e2e board ${run}`;
    await page.goto(`${base}/dashboard`, { waitUntil: 'networkidle2' });
    await settle();
    // The "+" beside the dashboards' tabs.
    await page.click('.dashboard-add');
    await settle();
    const opened = (await page.$('[role="dialog"] input')) !== null;
    if (!opened) throw new Error('no dialog to add a dashboard');
    await (await page.$('[role="dialog"] input')).type(board);
    if (!(await clickText('[role="dialog"] button', /confirm/i))) throw new Error('no Confirm button');
    if (!(await clickText('[role="tab"]', new RegExp(`^${board}$`)))) throw new Error('dashboard tab not shown');
    if (!(await clickText('div, span, p', /^Card$/))) throw new Error('no Card widget');
    await (await page.$('[role="dialog"] input')).type('temperature');
    await settle();
    await pause(500);
    if (!(await clickText('.MuiAutocomplete-popper li, .MuiAutocomplete-popper [role="option"], .MuiAutocomplete-popper div', new RegExp(`^temperature\\s*PROPERTY, ${deviceName}$`)))) {
        throw new Error("the device's temperature is not offered");
    }
    if (!(await clickText('[role="dialog"] button', /^\s*confirm\s*$/i))) throw new Error('no Confirm button in the widget dialog');
    if (!(await clickText('button', /^\s*Save\s*$/))) throw new Error('no Save button');
    await page.reload({ waitUntil: 'networkidle2' });
    await settle();
    await clickText('[role="tab"]', new RegExp(`^${board}$`));
    if (!(await shows('21.5'))) throw new Error('the widget is gone after a reload');
    // The device reports again; the open page shows the new value (WebSocket), no reload.
    const issued = await api('POST', `/device/${deviceId}/token`);
    await fetch(`${base}/api/v1/device/report`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Device-Token': issued.data.token },
        body: JSON.stringify({ temperature: 23.25 }),
    });
    const sent = Date.now();
    const live = await shows('23.25', 30000);
    console.log(`     the widget showed the new value after ${Date.now() - sent} ms`);
    return live;
});

// Workflow → Add → Trigger with an input `a`; a Code node in js whose arguments are picked
// from the trigger's outputs in the panel; an Output node picking the code's `result`. The
// editor's test run answers 2 × a; Save; reopened from the list, the Code node's panel still
// holds the picked references, and a second save keeps the design.
await step('design a workflow with a js code node, test it, save and reopen it', async () => {
    await page.goto(`${base}/workflow`, { waitUntil: 'networkidle2' });
    await settle();
    if (!(await clickText('button', /^\s*Add\s*$/))) throw new Error('no Add button');
    if (!(await clickDeepest('div', /^Trigger/))) throw new Error('no Trigger entry');
    if (!(await clickText('button', /^Create$/))) throw new Error('no Create button');
    // Trigger panel: one input, a LONG named a.
    if (!(await clickDeepest('button', /^\s*Add\s*$/))) throw new Error('no Add in the Trigger panel');
    await (await page.$('input[type="text"]')).type('a');
    await page.click('[role="combobox"]');
    await clickDeepest('li[role="option"]', /^LONG$/);
    // + after the trigger → Code.
    await page.click('.react-flow__handle.addable');
    await settle();
    if (!(await clickDeepest('.MuiPopover-paper *', /^Code$/))) throw new Error('no Code node offered');
    await pause(800); // the panel changes to the new node's
    // The Code panel opens with the console's template in js.
    const inJs = await page
        .waitForFunction(() => [...document.querySelectorAll('[role="combobox"]')].some(n => n.textContent === 'js'), { timeout: 5000 })
        .then(() => true)
        .catch(() => false);
    if (!inJs) throw new Error("the code node's language is not js");
    // arg1 and arg2 both reference the trigger's a (the console's reference picker).
    for (const i of [0, 1]) {
        await (await page.$$('.ms-param-input-select button'))[i].click();
        await settle();
        if (!(await clickDeepest('.ms-param-input-select-menu li[role="menuitem"]', /^aLONG$/))) throw new Error('a is not offered');
    }
    // The declared output `result` is a LONG.
    await (await page.$$('[role="combobox"]'))[1].click();
    await settle();
    await clickDeepest('li[role="option"]', /^LONG$/);
    // + after the code → Output, with doubled = the code's result.
    await (await page.$$('.react-flow__handle-right.source'))[1].click();
    await settle();
    if (!(await clickDeepest('.MuiPopover-paper *', /^Output$/))) throw new Error('no Output node offered');
    await pause(800); // the panel changes to the new node's
    if (!(await clickDeepest('button', /^\s*Add\s*$/))) throw new Error('no Add in the Output panel');
    await (await page.$('input[type="text"]:not([placeholder])')).type('doubled');
    await page.click('.ms-param-input-select button');
    await settle();
    if (!(await clickDeepest('.ms-param-input-select-menu li[role="menuitem"]', /^resultLONG$/))) throw new Error('result is not offered');
    // Test run, with the input the console fills in itself.
    const tested = page.waitForResponse(r => r.url().endsWith('/workflow/flows/design/test'));
    await clickText('button', /^\s*Test\s*$/);
    await clickText('button', /^\s*Run\s*$/);
    const test = await (await tested).json();
    const input = JSON.parse((await tested).request().postData()).input;
    const a = Object.values(input)[0];
    if (test.data?.status !== 'SUCCESS' || test.data?.output?.doubled !== 2 * a) {
        throw new Error(`test run: ${JSON.stringify(test.data ?? test)} for input ${JSON.stringify(input)}`);
    }
    // Save (and confirm the console's note on the service entity it makes).
    const saved = page.waitForResponse(r => r.url().endsWith('/workflow/flows/design'));
    await clickText('button', /^\s*Save\s*$/);
    await clickText('[role="dialog"] button', /^\s*Confirm\s*$/);
    const flow = (await (await saved).json()).data;
    if (!flow?.id) throw new Error('not saved');
    // Reopen it: the Code node's panel shows the two references it was given.
    await page.goto(`${base}/workflow/editor?wid=${flow.id}`, { waitUntil: 'networkidle2' });
    await settle();
    if (!(await clickDeepest('.react-flow__node *', /^Code$/))) throw new Error('no Code node after reopening');
    const chips = await page.$$eval('.ms-param-input-select-chip', ns => ns.map(n => n.innerText.trim()));
    if (chips.join(',') !== 'a,a') throw new Error(`the reopened Code panel holds [${chips}], not [a,a]`);
    const resaved = page.waitForResponse(r => r.url().endsWith('/workflow/flows/design'));
    await clickText('button', /^\s*Save\s*$/);
    await clickText('[role="dialog"] button', /^\s*Confirm\s*$/);
    const second = (await (await resaved).json()).data;
    return second?.version === 2;
});

// Entity → Entity Data → the detail button of the reported entity opens its history.
await step("open an entity's history", async () => {
    await page.goto(`${base}/entity`, { waitUntil: 'networkidle2' });
    await settle();
    if (!(await clickText('[role="tab"]', /^Entity Data$/))) throw new Error('no Entity Data tab');
    // The search box matches entity keys, which hold the device's identifier.
    const search = await page.$('input[placeholder="Search"]');
    await search.type(`e2e-${run}.temperature`);
    await settle();
    await pause(500);
    const rows = await page.$$('.MuiDataGrid-row');
    for (const row of rows) {
        const text = await row.evaluate(n => n.innerText);
        if (text.includes(`e2e-${run}`) && text.includes('temperature')) {
            const [detail] = await row.$$('button');
            await detail.click();
            await settle();
            return (await page.$('[role="dialog"]')) !== null && (await shows('21.5'));
        }
    }
    throw new Error('the reported entity is not listed');
});

// Entity → Custom Entity lists the custom entities and nothing a device reported.
await step('see only custom entities in their tab', async () => {
    const identifier = `e2e_${run}`;
    const made = await api('POST', '/entity', {
        identifier,
        name: `e2e custom ${run}`,
        type: 'PROPERTY',
        access_mod: 'RW',
        value_type: 'LONG',
    });
    if (made.status !== 'Success') throw new Error(`POST /entity: ${made.error_code} ${made.error_message}`);
    await page.goto(`${base}/entity`, { waitUntil: 'networkidle2' });
    await settle();
    if (!(await clickText('[role="tab"]', /^Custom Entity$/))) throw new Error('no Custom Entity tab');
    if (!(await shows(`e2e custom ${run}`))) return false;
    const listed = await page.evaluate(() => document.querySelector('.MuiDataGrid-root')?.innerText ?? '');
    return !listed.includes('temperature');
});

// User & roles → Roles → a role → Members lists the users given that role.
await step("see a role's members", async () => {
    const roleName = `e2e role ${run}`;
    const role = await api('POST', '/user/roles', { name: roleName });
    const memberEmail = `e2e-${run}@example.com`;
    await api('POST', '/user/members', { email: memberEmail, nickname: `e2e ${run}`, password: 'Member-Passw0rd' });
    const users = await api('POST', '/user/members/search', { keyword: memberEmail, page_number: 1, page_size: 10 });
    const userId = users.data?.content?.[0]?.user_id;
    await api('POST', `/user/roles/${role.data.role_id}/associate-user`, { user_ids: [userId] });
    await page.goto(`${base}/user-role`, { waitUntil: 'networkidle2' });
    await settle();
    if (!(await clickText('[role="tab"]', /^Roles$/))) throw new Error('no Roles tab');
    if (!(await clickText('li, [role="button"], span, div', new RegExp(`^${roleName}$`)))) throw new Error('role not listed');
    await clickText('[role="tab"]', /^Members$/);
    return shows(memberEmail);
});

await browser.close();
if (failures.length) {
    console.log(`\n${failures.length} failure(s):`);
    for (const f of failures) console.log(`  ${f}`);
    process.exit(1);
}
console.log('\nno failures');
