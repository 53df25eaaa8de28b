import { Socket } from 'node:net';
import mqtt from 'mqtt';
import { z } from 'zod';

// The footprint baseline: a bare Node.js process holding one MQTT.js connection the way an
// agent holds its own (persistent session, one QoS 1 subscription, a retained status), and
// nothing else. argv: broker URL, topic prefix, the nonce its status carries.

const Args = z.tuple([z.url(), z.string().min(1), z.string().min(1)]);
const PROTOCOL_VERSION = 5;

const [url, prefix, nonce] = Args.parse(process.argv.slice(2));
const client = mqtt.connect(url, {
  clientId: `${prefix.replaceAll('/', '-')}-bare`,
  protocolVersion: PROTOCOL_VERSION,
  clean: false,
  properties: { sessionExpiryInterval: 3_600 },
});

client.on('connect', () => {
  if (client.stream instanceof Socket) {
    client.stream.setNoDelay(true);
  }

  client.subscribe(`${prefix}/commands`, { qos: 1 }, () => {
    client.publish(`${prefix}/status`, `online ${nonce}`, { qos: 1, retain: true });
  });
});

process.once('SIGTERM', () => {
  void client.endAsync().finally(() => process.exit(0));
});
