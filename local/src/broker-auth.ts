/**
 * What a broker asks the auth-service, in the terms of mosquitto-auth-plug: every question
 * ends in yes, no, or error (the service could not answer), and the broker treats an error
 * differently from a no. `PlugClient` and `GoAuthClient` from @beckon/auth-service implement this interface.
 */
export type CheckAnswer = 'yes' | 'no' | 'error';

/** The plug's `acc` values. */
export const ACCESS = { read: 1, write: 2, subscribe: 4 } as const;
export type AccessCode = (typeof ACCESS)[keyof typeof ACCESS];

export interface BrokerAuthChecks {
  /** `clientId` is the MQTT client id, which mosquitto-go-auth sends and the plug does not. */
  authenticate(username: string, password: string, clientId: string): Promise<CheckAnswer>;
  /** The plug's whole ACL sequence: the superuser request, then the acl request if needed. */
  checkAcl(
    username: string,
    topic: string,
    access: AccessCode,
    clientId: string,
  ): Promise<CheckAnswer>;
}
