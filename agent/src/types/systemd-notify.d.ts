// The package ships no types; this is the part of its surface the agent uses.
declare module 'systemd-notify' {
  interface NotifyOptions {
    readonly ready?: boolean;
    readonly status?: string;
    readonly pid?: number;
  }

  function notify(options?: NotifyOptions): Promise<unknown>;

  export default notify;
}
