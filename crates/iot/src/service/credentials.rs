//! Device credentials: a per-device token, so a device can send values without a user
//! login (HTTP ingest, and the embedded MQTT broker's password check). Only the token's
//! SHA-256 is stored; the token is shown once, when it is issued.

use rand::RngCore;
use sha2::{Digest, Sha256};
use weir_kernel::Id;
use weir_kernel::store::{read, write};

use super::IotService;
use super::values::WriteOutcome;
use crate::errors::IotError;
use crate::ports::Device;
use crate::samples::Sample;
use crate::viewer::Viewer;

/// Every device token starts with this, so a leaked one is recognisable in a scan.
pub const DEVICE_TOKEN_PREFIX: &str = "wdt_";

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl IotService {
    /// Issues a new token for the device, replacing (and so revoking) any earlier one.
    /// Needs `device.edit` and sight of the device.
    pub fn issue_device_token(&self, v: &Viewer, device: Id) -> Result<(Device, String), IotError> {
        v.require("device.edit")?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = format!("{DEVICE_TOKEN_PREFIX}{}", hex::encode(bytes));
        let now = self.clock.now_ms();
        let d = write(self.store(), |tx| {
            let d = tx
                .device(&v.tenant_id, device)?
                .filter(|d| v.sees_device(d))
                .ok_or_else(|| IotError::not_found("device", device))?;
            tx.set_device_token(&v.tenant_id, d.id, &digest(&token), now)?;
            Ok::<_, IotError>(d)
        })?;
        Ok((d, token))
    }

    /// The device a token was issued to.
    pub fn device_for_token(&self, token: &str) -> Result<Device, IotError> {
        Self::check_token_form(token)?;
        read(self.store(), |tx| tx.device_by_token(&digest(token)))?.ok_or(IotError::BadDeviceToken)
    }

    fn check_token_form(token: &str) -> Result<(), IotError> {
        if !token.starts_with(DEVICE_TOKEN_PREFIX) || token.len() > 128 {
            return Err(IotError::BadDeviceToken);
        }
        Ok(())
    }

    /// Stores a report from the device holding `token`, as its integration would. The
    /// token, the device and its entities are read in one transaction.
    pub fn ingest(&self, token: &str, samples: &[Sample]) -> Result<WriteOutcome, IotError> {
        Self::check_token_form(token)?;
        let (device, entities) = read(self.store(), |tx| {
            let d = tx
                .device_by_token(&digest(token))?
                .ok_or(IotError::BadDeviceToken)?;
            let entities = tx.entities_of_device(&d.tenant_id, d.id)?;
            Ok::<_, IotError>((d, entities))
        })?;
        self.report_of(
            &Viewer::system(device.tenant_id.clone()),
            &device,
            entities,
            samples,
        )
    }
}
