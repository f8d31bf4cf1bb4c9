import type { WebSocketEndpoint } from '../http/websocket-upgrade.ts';
import type { MqttListener } from './mqtt-listener.ts';

/** MQTT §6: the path clients connect to on the HTTP port, and the subprotocol they must offer. */
export const MQTT_WEBSOCKET_PATH = '/mqtt';
export const MQTT_WEBSOCKET_SUBPROTOCOL = 'mqtt';

/**
 * MQTT over WebSocket at `/mqtt` of the HTTP port, served by the MQTT listener as its TCP
 * connections are. `listener` is read per connection: the HTTP server starts before the MQTT
 * listener, and a connection arriving before it is up is closed.
 */
export function mqttWebSocketEndpoint(listener: () => MqttListener | undefined): WebSocketEndpoint {
  return {
    path: MQTT_WEBSOCKET_PATH,
    subprotocol: MQTT_WEBSOCKET_SUBPROTOCOL,
    accept(stream) {
      const mqtt = listener();
      if (mqtt === undefined) stream.destroy();
      else mqtt.accept(stream);
    },
  };
}
