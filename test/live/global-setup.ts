import { readLiveSettings } from "./live-settings.js";

// Fails the run before any test when the live settings are missing: a live suite that silently
// skips would report green without having touched Azure.
export default function setup(): void {
  const settings = readLiveSettings();
  process.stdout.write(
    `live suite: ${settings.server}:${settings.port}/${settings.database}, credential "${settings.credential}"\n`,
  );
}
