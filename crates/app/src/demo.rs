//! The built-in `demo` integration: simulated devices that report plausible values every
//! few seconds, so a first-time user sees live data. It is registered only when
//! `demo.enabled` is true.
//!
//! At start, three devices are made sure to exist in `demo.tenant`, with their entities
//! declared up front (units and ranges included):
//! - `greenhouse`: `temperature` (°C, a day curve peaking at 14:00 UTC plus noise),
//!   `humidity` (%, lower when it is warm), `co2` (ppm) and `fan` (on above 1000 ppm or
//!   26.5 °C, off again below 600 ppm and 25.5 °C);
//! - `water-tank`: `level` (%, draining slowly, refilled by the `pump` between 20 % and
//!   90 %);
//! - `power-meter`: `power` (W, a base load with short spikes), `energy` (kWh, never
//!   decreasing) and `status` (`ok`, or `high` above 2000 W).
//!
//! Every `demo.interval_secs`, each device reports one sample through
//! [`IotService::report`], on a blocking thread, so the values land in the history and on
//! the event bus like any device's. Each value is a bounded random walk from the previous
//! one; after a restart the walk continues from the stored latest values (the energy
//! counter keeps counting).
//!
//! Users cannot add demo devices (the integration has no add-device service) but may
//! delete them. A deleted device stays deleted while the server runs and is created again
//! at the next start: turn the demo off to be rid of it for good.

use std::collections::{BTreeMap, BTreeSet};
use std::f64::consts::TAU;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value as Json, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use weir_identity::IdentityService;
use weir_iot::errors::IotError;
use weir_iot::integration::{Integration, IntegrationError, IntegrationInfo, NewDevice};
use weir_iot::samples::Sample;
use weir_iot::{
    AccessMod, EntityDefinition, EntityType, EntityValue, IotService, ValueAttribute, ValueType,
    Viewer,
};
use weir_kernel::{AsProblem, TenantId};

/// The demo integration's id.
pub const DEMO: &str = "demo";

/// The `demo` integration: devices Weir simulates. It has a delete-device service and no
/// add-device service.
#[derive(Debug)]
pub struct DemoDevices {
    info: IntegrationInfo,
}

impl Default for DemoDevices {
    fn default() -> Self {
        let (_, delete) = weir_iot::builtin::identified_services();
        Self {
            info: IntegrationInfo {
                id: DEMO.into(),
                name: "Demo devices".into(),
                description: "Simulated devices that report values every few seconds \
                              (demo.enabled). Weir creates them; they cannot be added."
                    .into(),
                icon: None,
                entities: vec![],
                add_device: None,
                delete_device: Some(delete),
            },
        }
    }
}

impl Integration for DemoDevices {
    fn info(&self) -> &IntegrationInfo {
        &self.info
    }

    fn add_device(
        &self,
        _name: &str,
        _params: &BTreeMap<String, EntityValue>,
    ) -> Result<NewDevice, IntegrationError> {
        // Not reached: without an add-device service, the use-case refuses first.
        Err(IntegrationError::Refused(
            "demo devices are created by Weir; they cannot be added".into(),
        ))
    }
}

/// The running demo devices; stop them with [`Demo::stop`] after the HTTP server ends
/// (dropping the handle stops them too, without waiting).
#[derive(Debug)]
pub struct Demo {
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Demo {
    /// A handle that runs nothing (the demo is off).
    pub fn off() -> Self {
        Self {
            shutdown: watch::channel(false).0,
            task: None,
        }
    }

    /// Starts the demo devices of `tenant` on the current tokio runtime: they report
    /// every `interval` (at least one second). Must be called inside the runtime.
    pub fn start(
        iot: Arc<IotService>,
        identity: Arc<IdentityService>,
        tenant: TenantId,
        interval: Duration,
    ) -> Self {
        let (shutdown, stopped) = watch::channel(false);
        let interval = interval.max(Duration::from_secs(1));
        let runner = Box::new(Runner {
            iot,
            identity,
            viewer: Viewer::system(tenant),
            step_secs: interval.as_secs_f64(),
            devices: models()
                .into_iter()
                .map(|model| Slot { model, gone: false })
                .collect(),
            ready: false,
            logged: BTreeSet::new(),
            rng: StdRng::from_os_rng(),
        });
        let task = tokio::spawn(run(runner, interval, stopped));
        tracing::info!(interval_secs = interval.as_secs(), "demo devices started");
        Self {
            shutdown,
            task: Some(task),
        }
    }

    /// Whether the demo devices run.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops the devices, waiting (10 s at most) for a report under way to finish.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
            tracing::info!("demo devices stopped");
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        // The task ends at its next tick; a report under way finishes first.
        let _ = self.shutdown.send(true);
    }
}

/// Reports every `interval` until told to stop (or the handle is gone). The blocking work
/// runs on the blocking pool, the runner moving there and back.
async fn run(mut runner: Box<Runner>, interval: Duration, mut stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            changed = stopped.changed() => {
                if changed.is_err() || *stopped.borrow() {
                    return;
                }
            }
            _ = ticks.tick() => {}
        }
        match tokio::task::spawn_blocking(move || {
            runner.tick();
            runner
        })
        .await
        {
            Ok(back) => runner = back,
            Err(e) => {
                tracing::error!(error = %e, "the demo devices stopped");
                return;
            }
        }
    }
}

/// The blocking side: makes sure the devices exist, then reports their next values.
struct Runner {
    iot: Arc<IotService>,
    identity: Arc<IdentityService>,
    viewer: Viewer,
    step_secs: f64,
    devices: Vec<Slot>,
    /// True once the devices exist and their walks continue from the stored values.
    ready: bool,
    /// Kinds of trouble already logged, cleared when every device reports again.
    logged: BTreeSet<String>,
    rng: StdRng,
}

struct Slot {
    model: Box<dyn Simulated>,
    /// Deleted by a user: not reported (nor recreated) until the next start.
    gone: bool,
}

/// Something that went wrong, logged once per kind.
struct Trouble {
    kind: String,
    message: String,
}

impl From<IotError> for Trouble {
    fn from(e: IotError) -> Self {
        Self {
            kind: e.problem().code.to_owned(),
            message: e.to_string(),
        }
    }
}

impl Runner {
    fn tick(&mut self) {
        if !self.ready {
            if let Err(t) = self.prepare() {
                self.log_once(t);
                return;
            }
            self.ready = true;
            tracing::info!(tenant = %self.viewer.tenant_id, "demo devices ready");
        }
        let hour = hour_of_day();
        let mut failed = false;
        let mut troubles = Vec::new();
        for slot in self.devices.iter_mut().filter(|s| !s.gone) {
            let values = slot.model.step(&mut self.rng, hour, self.step_secs);
            let device = slot.model.identifier();
            match self
                .iot
                .report(&self.viewer, DEMO, device, &[Sample::now(values)])
            {
                Ok(_) => {}
                Err(IotError::NotFound { what: "device", .. }) => {
                    slot.gone = true;
                    tracing::info!(
                        device,
                        "demo device deleted; it is created again at the next start"
                    );
                }
                Err(e) => {
                    failed = true;
                    troubles.push(Trouble::from(e));
                }
            }
        }
        for t in troubles {
            self.log_once(t);
        }
        if !failed && !self.logged.is_empty() {
            self.logged.clear();
            tracing::info!("demo devices report again");
        }
    }

    /// Makes sure the tenant and the devices exist, and continues each walk from the
    /// device's stored latest values.
    fn prepare(&mut self) -> Result<(), Trouble> {
        let tenant = &self.viewer.tenant_id;
        let tenants = self.identity.tenants().map_err(|e| Trouble {
            kind: "store".into(),
            message: e.to_string(),
        })?;
        if !tenants.iter().any(|t| &t.id == tenant) {
            return Err(Trouble {
                kind: "tenant".into(),
                message: format!(
                    "demo.tenant `{tenant}` does not exist; add it with `weir tenant add \
                     {tenant}` (the demo devices wait for it)"
                ),
            });
        }
        for slot in &mut self.devices {
            let model = &mut slot.model;
            let new = NewDevice {
                identifier: model.identifier().into(),
                entities: model.entities(),
                additional: Map::new(),
            };
            let device = self
                .iot
                .ensure_device(&self.viewer, DEMO, model.name(), &new)?;
            let (_, entities) = self.iot.device_details(&self.viewer, device.id)?;
            let ids: Vec<_> = entities.iter().map(|e| e.id).collect();
            let stored: Map<String, Json> = self
                .iot
                .latest(&self.viewer, &ids)?
                .into_iter()
                .filter_map(|(e, p)| Some((e.definition.identifier, p?.value.to_json())))
                .collect();
            model.resume(&stored);
        }
        Ok(())
    }

    fn log_once(&mut self, t: Trouble) {
        if self.logged.insert(t.kind.clone()) {
            tracing::warn!(kind = %t.kind, "demo devices: {}", t.message);
        }
    }
}

/// The UTC hour of the day, with its fraction (0 to 24).
fn hour_of_day() -> f64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    (ms % 86_400_000) as f64 / 3_600_000.0
}

// ---- the simulated devices ----

/// A simulated device: its entities, and a step of its values.
trait Simulated: Send {
    fn identifier(&self) -> &'static str;
    fn name(&self) -> &'static str;
    fn entities(&self) -> Vec<EntityDefinition>;
    /// Continues from the values last stored (by identifier), when there are any.
    fn resume(&mut self, stored: &Map<String, Json>);
    /// Moves `dt` seconds on, at `hour` (UTC, 0 to 24), and returns the values to report.
    fn step(&mut self, rng: &mut StdRng, hour: f64, dt: f64) -> Map<String, Json>;
}

fn models() -> Vec<Box<dyn Simulated>> {
    vec![
        Box::new(Greenhouse::default()),
        Box::new(WaterTank::default()),
        Box::new(PowerMeter::default()),
    ]
}

/// A read-only property.
fn property(
    identifier: &str,
    name: &str,
    value_type: ValueType,
    value_attribute: ValueAttribute,
) -> EntityDefinition {
    EntityDefinition {
        identifier: identifier.into(),
        name: name.into(),
        entity_type: EntityType::Property,
        access_mod: AccessMod::R,
        value_type,
        value_attribute,
        children: vec![],
    }
}

/// A number's unit and range, and for a DOUBLE its digits after the point.
fn number(unit: &str, min: f64, max: Option<f64>, fraction_digits: Option<u32>) -> ValueAttribute {
    ValueAttribute {
        unit: Some(unit.into()),
        min: Some(min),
        max,
        fraction_digits,
        ..ValueAttribute::default()
    }
}

/// `x` rounded to `digits` after the point (what `fraction_digits` accepts).
fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// Noise of a random walk over `dt` seconds: `per_5s` is its size over five seconds.
fn noise(rng: &mut StdRng, per_5s: f64, dt: f64) -> f64 {
    let size = per_5s * (dt / 5.0).sqrt();
    rng.random_range(-size..=size)
}

fn stored_f64(stored: &Map<String, Json>, key: &str, min: f64, max: f64) -> Option<f64> {
    stored
        .get(key)
        .and_then(Json::as_f64)
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(min, max))
}

/// A greenhouse: warm in the afternoon, cool at night; the fan vents CO2 and heat.
struct Greenhouse {
    /// How far the temperature is off the day curve (°C).
    drift: f64,
    humidity: f64,
    co2: f64,
    fan: bool,
}

impl Default for Greenhouse {
    fn default() -> Self {
        Self {
            drift: 0.0,
            humidity: 60.0,
            co2: 650.0,
            fan: false,
        }
    }
}

impl Simulated for Greenhouse {
    fn identifier(&self) -> &'static str {
        "greenhouse"
    }

    fn name(&self) -> &'static str {
        "Greenhouse"
    }

    fn entities(&self) -> Vec<EntityDefinition> {
        vec![
            property(
                "temperature",
                "Temperature",
                ValueType::Double,
                number("°C", 18.0, Some(28.0), Some(1)),
            ),
            property(
                "humidity",
                "Humidity",
                ValueType::Double,
                number("%", 40.0, Some(80.0), Some(1)),
            ),
            property(
                "co2",
                "CO2",
                ValueType::Long,
                number("ppm", 400.0, Some(1200.0), None),
            ),
            property("fan", "Fan", ValueType::Boolean, ValueAttribute::default()),
        ]
    }

    fn resume(&mut self, stored: &Map<String, Json>) {
        if let Some(h) = stored_f64(stored, "humidity", 40.0, 80.0) {
            self.humidity = h;
        }
        if let Some(c) = stored_f64(stored, "co2", 400.0, 1200.0) {
            self.co2 = c;
        }
        if let Some(f) = stored.get("fan").and_then(Json::as_bool) {
            self.fan = f;
        }
    }

    fn step(&mut self, rng: &mut StdRng, hour: f64, dt: f64) -> Map<String, Json> {
        let pull = (dt / 50.0).min(1.0);
        self.drift = (self.drift * (1.0 - pull) + noise(rng, 0.3, dt)).clamp(-1.5, 1.5);
        let day = 23.0 + 3.5 * (TAU * (hour - 8.0) / 24.0).sin();
        let venting = if self.fan { -0.8 } else { 0.0 };
        let temperature = (day + self.drift + venting).clamp(18.0, 28.0);
        let target = 60.0 - 3.0 * (temperature - 23.0) + if self.fan { -4.0 } else { 0.0 };
        self.humidity += (target - self.humidity) * pull + noise(rng, 0.8, dt);
        self.humidity = self.humidity.clamp(40.0, 80.0);
        // Plants and people breathe CO2 in; the fan vents it out faster.
        self.co2 += if self.fan {
            -rng.random_range(4.0..12.0) * dt
        } else {
            rng.random_range(1.0..6.0) * dt
        };
        self.co2 = self.co2.clamp(400.0, 1200.0);
        if !self.fan && (self.co2 > 1000.0 || temperature > 26.5) {
            self.fan = true;
        } else if self.fan && self.co2 < 600.0 && temperature < 25.5 {
            self.fan = false;
        }
        let mut out = Map::new();
        out.insert("temperature".into(), json!(round(temperature, 1)));
        out.insert("humidity".into(), json!(round(self.humidity, 1)));
        out.insert("co2".into(), json!(self.co2.round() as i64));
        out.insert("fan".into(), json!(self.fan));
        out
    }
}

/// A water tank that drains slowly; its pump refills it from 20 % to 90 %.
struct WaterTank {
    level: f64,
    pump: bool,
}

impl Default for WaterTank {
    fn default() -> Self {
        Self {
            level: 75.0,
            pump: false,
        }
    }
}

impl Simulated for WaterTank {
    fn identifier(&self) -> &'static str {
        "water-tank"
    }

    fn name(&self) -> &'static str {
        "Water tank"
    }

    fn entities(&self) -> Vec<EntityDefinition> {
        vec![
            property(
                "level",
                "Level",
                ValueType::Double,
                number("%", 0.0, Some(100.0), Some(1)),
            ),
            property(
                "pump",
                "Pump",
                ValueType::Boolean,
                ValueAttribute::default(),
            ),
        ]
    }

    fn resume(&mut self, stored: &Map<String, Json>) {
        if let Some(l) = stored_f64(stored, "level", 0.0, 100.0) {
            self.level = l;
        }
        if let Some(p) = stored.get("pump").and_then(Json::as_bool) {
            self.pump = p;
        }
    }

    fn step(&mut self, rng: &mut StdRng, _hour: f64, dt: f64) -> Map<String, Json> {
        let drain = rng.random_range(0.04..0.16) * dt;
        let fill = if self.pump {
            rng.random_range(0.4..0.6) * dt
        } else {
            0.0
        };
        self.level = (self.level + fill - drain).clamp(0.0, 100.0);
        if !self.pump && self.level < 20.0 {
            self.pump = true;
        } else if self.pump && self.level > 90.0 {
            self.pump = false;
        }
        let mut out = Map::new();
        out.insert("level".into(), json!(round(self.level, 1)));
        out.insert("pump".into(), json!(self.pump));
        out
    }
}

/// A household power meter: a base load that follows the day, and now and then an
/// appliance that draws a lot for a while.
struct PowerMeter {
    base: f64,
    /// Power of the appliance that runs (W) and the seconds it still runs.
    appliance: Option<(f64, f64)>,
    energy: f64,
}

impl Default for PowerMeter {
    fn default() -> Self {
        Self {
            base: 400.0,
            appliance: None,
            // A meter that has been running for a while (a new one reads 0 for too long).
            energy: 2841.372,
        }
    }
}

/// Power above which the meter says `high` (W).
const HIGH_POWER: f64 = 2000.0;

impl Simulated for PowerMeter {
    fn identifier(&self) -> &'static str {
        "power-meter"
    }

    fn name(&self) -> &'static str {
        "Power meter"
    }

    fn entities(&self) -> Vec<EntityDefinition> {
        let status = ValueAttribute {
            enum_values: Some(BTreeMap::from([
                ("ok".to_owned(), "OK".to_owned()),
                ("high".to_owned(), "High load".to_owned()),
            ])),
            ..ValueAttribute::default()
        };
        vec![
            property(
                "power",
                "Power",
                ValueType::Double,
                number("W", 0.0, Some(5000.0), Some(1)),
            ),
            property(
                "energy",
                "Energy",
                ValueType::Double,
                number("kWh", 0.0, None, Some(3)),
            ),
            property("status", "Status", ValueType::String, status),
        ]
    }

    fn resume(&mut self, stored: &Map<String, Json>) {
        if let Some(e) = stored_f64(stored, "energy", 0.0, f64::MAX) {
            self.energy = e;
        }
    }

    fn step(&mut self, rng: &mut StdRng, hour: f64, dt: f64) -> Map<String, Json> {
        // More in the evening, least at night.
        let target = 450.0 + 250.0 * (TAU * (hour - 13.0) / 24.0).sin();
        let pull = (dt / 60.0).min(1.0);
        self.base += (target - self.base) * pull + noise(rng, 25.0, dt);
        self.base = self.base.clamp(150.0, 1200.0);
        self.appliance = match self.appliance {
            Some((watts, left)) if left > dt => Some((watts, left - dt)),
            Some(_) => None,
            // A kettle, an oven, a washing machine: about one every few minutes.
            None if rng.random_bool((dt / 240.0).min(1.0)) => Some((
                rng.random_range(1200.0..2800.0),
                rng.random_range(20.0..120.0),
            )),
            None => None,
        };
        let draw = self.appliance.map_or(0.0, |(watts, _)| watts);
        let power = round((self.base + draw).clamp(0.0, 5000.0), 1);
        self.energy += power * dt / 3_600_000.0;
        let mut out = Map::new();
        out.insert("power".into(), json!(power));
        // Rounded down to the Wh, so the reported counter never goes back (the small
        // margin keeps a resumed 12.345 from reading back as 12.344).
        out.insert(
            "energy".into(),
            json!((self.energy * 1000.0 + 1e-6).floor() / 1000.0),
        );
        let status = if power > HIGH_POWER { "high" } else { "ok" };
        out.insert("status".into(), json!(status));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs every model for `steps` steps of `dt` seconds across the day and checks each
    /// value against its declared entity; returns each device's reports.
    fn simulate(steps: usize, dt: f64) -> Vec<(String, Vec<Map<String, Json>>)> {
        let mut rng = StdRng::seed_from_u64(7);
        models()
            .into_iter()
            .map(|mut model| {
                let entities = model.entities();
                let reports: Vec<_> = (0..steps)
                    .map(|i| {
                        let hour = (i as f64 * dt / 3600.0) % 24.0;
                        let values = model.step(&mut rng, hour, dt);
                        assert_eq!(values.len(), entities.len());
                        for def in &entities {
                            def.check().unwrap();
                            let v = &values[&def.identifier];
                            if let Err(e) = EntityValue::check(def, v) {
                                panic!("{}.{} = {v}: {e}", model.identifier(), def.identifier);
                            }
                        }
                        values
                    })
                    .collect();
                (model.identifier().to_owned(), reports)
            })
            .collect()
    }

    fn series(reports: &[Map<String, Json>], key: &str) -> Vec<Json> {
        reports.iter().map(|r| r[key].clone()).collect()
    }

    #[test]
    fn values_fit_their_entities_move_and_switch() {
        for dt in [1.0, 5.0, 60.0] {
            for (device, reports) in simulate(20_000, dt) {
                let bools: &[&str] = match device.as_str() {
                    "greenhouse" => &["fan"],
                    "water-tank" => &["pump"],
                    _ => &[],
                };
                for b in bools {
                    let s = series(&reports, b);
                    assert!(s.contains(&json!(true)) && s.contains(&json!(false)));
                }
                if device == "power-meter" {
                    let energy: Vec<f64> = series(&reports, "energy")
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect();
                    assert!(energy.windows(2).all(|w| w[0] <= w[1]), "energy decreased");
                    assert!(energy[energy.len() - 1] > energy[0]);
                    let status = series(&reports, "status");
                    assert!(status.contains(&json!("high")) && status.contains(&json!("ok")));
                }
            }
        }
    }

    #[test]
    fn values_are_continuous() {
        for (device, reports) in simulate(5_000, 5.0) {
            let (key, largest) = match device.as_str() {
                "greenhouse" => ("temperature", 1.5),
                "water-tank" => ("level", 3.5),
                _ => ("energy", 0.01),
            };
            let s: Vec<f64> = series(&reports, key)
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            for w in s.windows(2) {
                assert!((w[1] - w[0]).abs() <= largest, "{device}.{key}: {w:?}");
            }
        }
    }

    #[test]
    fn a_restart_continues_from_the_stored_values() {
        let mut meter = PowerMeter::default();
        let stored = json!({"energy": 12.5, "power": 300.0});
        meter.resume(stored.as_object().unwrap());
        let mut rng = StdRng::seed_from_u64(1);
        let out = meter.step(&mut rng, 12.0, 5.0);
        let energy = out["energy"].as_f64().unwrap();
        assert!((12.5..12.51).contains(&energy), "{energy}");
        let mut tank = WaterTank::default();
        tank.resume(json!({"level": 15.0, "pump": true}).as_object().unwrap());
        let out = tank.step(&mut rng, 0.0, 5.0);
        assert!(out["level"].as_f64().unwrap() > 15.0);
        assert_eq!(out["pump"], true);
    }

    #[test]
    fn users_cannot_add_demo_devices() {
        let demo = DemoDevices::default();
        assert!(demo.info().add_device.is_none());
        assert!(demo.info().delete_device.is_some());
        let mut registry = weir_iot::IntegrationRegistry::default();
        registry.register(Arc::new(demo)).unwrap();
        assert!(registry.get(DEMO).is_some());
    }
}
