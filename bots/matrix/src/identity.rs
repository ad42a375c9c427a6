//! The bot's cryptographic identity: a device cross-signed by the bot's own account, with
//! secret storage and key backup behind a recovery key.
//!
//! Today's Element shares room keys only with devices their owner has cross-signed, and shows
//! nothing from any other device (MSC4153). So before the bot serves it makes sure of three
//! things, in this order:
//!
//! 1. **The account has a cross-signing identity.** On the very first run there is none: the
//!    bot creates one (answering the homeserver's password prompt if it asks), which also
//!    signs this device.
//! 2. **This device holds the identity's private keys.** A new device (a lost store, a fresh
//!    login) does not: it opens secret storage with the recovery key, imports them and signs
//!    itself. Without the key it stops, saying which setting to set.
//! 3. **Secret storage and key backup are on.** On the first run the bot turns them on with
//!    the recovery key it was given, or creates one and hands it back to be shown once.
//!
//! Then it checks the result with the homeserver: if this device is still not cross-signed,
//! the bot refuses to serve rather than send messages residents' apps would refuse.

use anyhow::{anyhow, bail, Context, Result};
use carebot::config::MatrixConfig;
use carebot_runtime::{Carebot, KeyTrust};
use carebot_store::people::Identity;
use matrix_sdk::ruma::api::client::uiaa;
use matrix_sdk::ruma::UserId;
use matrix_sdk::Client;
use secrecy::{ExposeSecret, SecretString};

/// What to set when the bot needs its recovery key and has none.
const NEED_KEY: &str = "this device of the bot is new (or its store was lost) and needs the \
    bot's recovery key to prove it is the bot: set CAREBOT_MATRIX_RECOVERY_KEY, or \
    [matrix] recovery_key_file, to the key shown when Carebot first set up its Matrix account";

/// Makes sure this device is cross-signed by the bot's identity (see the module docs).
/// Returns a recovery key it has just created, to be shown to the operator once.
///
/// `new_device`: this process has just logged in (no session was kept). Such a device's keys
/// are not on the homeserver yet, and a device must be there before it can be signed.
pub async fn ensure(
    client: &Client,
    config: &MatrixConfig,
    new_device: bool,
) -> Result<Option<SecretString>> {
    let encryption = client.encryption();
    encryption.wait_for_e2ee_initialization_tasks().await;
    let me = client.user_id().context("not logged in")?.to_owned();
    let given = config
        .recovery_key()
        .map_err(|problem| anyhow!("[matrix] recovery_key_file: {problem}"))?;

    let on_server = encryption
        .request_user_identity(&me)
        .await
        .context("asking the homeserver for the bot's cross-signing keys")?
        .is_some();
    if !on_server {
        tracing::info!("setting up cross-signing for the bot's account (first run)");
        bootstrap(client, config).await?;
    } else if !holds_private_keys(client).await {
        let key = given.as_ref().context(NEED_KEY)?;
        tracing::info!("recovering the bot's identity with its recovery key");
        if new_device {
            // matrix-sdk uploads a new device's keys with its first sync request. (Safe here:
            // a new device starts without Carebot's sync token, see `login`, so this sync
            // cannot hide a batch from the sync loop.)
            client
                .sync_once(
                    matrix_sdk::config::SyncSettings::default().timeout(std::time::Duration::ZERO),
                )
                .await
                .context("publishing the new device's keys")?;
        }
        encryption
            .recovery()
            .recover(key.expose_secret())
            .await
            .map_err(|e| {
                anyhow!(
                    "the recovery key did not open the bot's secret storage ({e}); check \
                     CAREBOT_MATRIX_RECOVERY_KEY (or [matrix] recovery_key_file)"
                )
            })?;
        // Recovery signs this device with the self-signing key it brought back; sign again
        // in case the device was not yet on the homeserver when it tried.
        if let Some(device) = encryption.get_own_device().await? {
            if !device.is_cross_signed_by_owner() {
                device
                    .verify()
                    .await
                    .context("signing this device with the bot's identity")?;
            }
        }
    }

    let mut created = None;
    let storage_on = encryption
        .secret_storage()
        .is_enabled()
        .await
        .context("asking the homeserver whether the bot's secret storage is set up")?;
    if !storage_on {
        tracing::info!("turning on secret storage and key backup for the bot");
        let recovery = encryption.recovery();
        let enable = recovery.enable().wait_for_backups_to_upload();
        match &given {
            Some(key) => {
                enable
                    .with_passphrase(key.expose_secret())
                    .await
                    .context("turning on secret storage and key backup")?;
            }
            None => {
                let key = enable
                    .await
                    .context("turning on secret storage and key backup")?;
                created = Some(SecretString::from(key));
            }
        }
    } else if !encryption.backups().are_enabled().await {
        // Secret storage is there, but this device is not backing keys up (it is new, or
        // the backup was reset elsewhere): the recovery key brings the backup key with it.
        match &given {
            Some(key) => encryption
                .recovery()
                .recover_and_fix_backup(key.expose_secret())
                .await
                .context("turning key backup back on with the recovery key")?,
            None => tracing::warn!("key backup is off on this device; set CAREBOT_MATRIX_RECOVERY_KEY to turn it back on"),
        }
    }

    // What the homeserver now says about this device, not what this process believes.
    encryption
        .request_user_identity(&me)
        .await
        .context("asking the homeserver for the bot's cross-signing keys")?;
    let device = encryption
        .get_own_device()
        .await
        .context("reading this device's keys")?
        .context("this device has no keys yet")?;
    if !device.is_cross_signed_by_owner() {
        bail!(
            "this device of the bot is not cross-signed by the bot's account, so today's \
             Element would refuse its messages; {}",
            if given.is_some() {
                "check CAREBOT_MATRIX_RECOVERY_KEY"
            } else {
                NEED_KEY
            }
        );
    }
    tracing::info!("the bot's device is cross-signed");
    Ok(created)
}

/// Whether this device holds all three private cross-signing keys.
async fn holds_private_keys(client: &Client) -> bool {
    client
        .encryption()
        .cross_signing_status()
        .await
        .is_some_and(|s| s.is_complete())
}

/// Creates and uploads the account's cross-signing keys, answering the homeserver's password
/// prompt (user-interactive auth) when it asks for one.
async fn bootstrap(client: &Client, config: &MatrixConfig) -> Result<()> {
    let encryption = client.encryption();
    let Err(e) = encryption.bootstrap_cross_signing(None).await else {
        return Ok(());
    };
    let Some(prompt) = e.as_uiaa_response() else {
        return Err(e).context("setting up cross-signing for the bot's account");
    };
    let password = config.password.as_ref().context(
        "the homeserver asks for the bot's password to set up cross-signing: set \
         CAREBOT_MATRIX_PASSWORD for this first run",
    )?;
    let me = client.user_id().context("not logged in")?;
    let mut auth = uiaa::Password::new(
        uiaa::UserIdentifier::Matrix(uiaa::MatrixUserIdentifier::new(me.localpart().into())),
        password.expose_secret().to_string(),
    );
    auth.session = prompt.session.clone();
    encryption
        .bootstrap_cross_signing(Some(uiaa::AuthData::Password(auth)))
        .await
        .context("setting up cross-signing for the bot's account (with its password)")
}

/// Whether health text may go to `user`: their cryptographic identity (master key), as the
/// homeserver last told the bot, checked against the one on record since they linked (the
/// core records it the first time and tells staff when it changes).
pub async fn check(client: &Client, bot: &Carebot, user: &UserId) -> Result<KeyTrust> {
    let identity = client.encryption().get_user_identity(user).await?;
    let fingerprint = identity.and_then(|i| i.master_key().get_first_key().map(|k| k.to_base64()));
    let who = Identity {
        platform: super::PLATFORM.into(),
        address: user.to_string(),
    };
    Ok(bot.check_identity_key(&who, fingerprint.as_deref()).await?)
}
