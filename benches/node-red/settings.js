// Node-RED settings for benches/run.sh: the runtime only (no editor, no admin API),
// the flow in flows.json, logging at warn. The port comes from NODE_RED_PORT (1880).
module.exports = {
    uiHost: "127.0.0.1",
    uiPort: Number(process.env.NODE_RED_PORT || 1880),
    httpAdminRoot: false,
    httpNodeRoot: "/",
    flowFile: "flows.json",
    flowFilePretty: true,
    credentialSecret: false,
    logging: { console: { level: "warn", metrics: false, audit: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    editorTheme: { tours: false },
    functionExternalModules: false,
    exportGlobalContextKeys: false,
};
