/** Placeholder entry until the package's first module lands; see its issue. */
export const PACKAGE_NAME = '@beckon/agent';
