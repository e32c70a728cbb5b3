/** The EzGED double's account every benchmark logs in with. */
export const BENCH_EZGED_LOGIN = 'cold';
export const BENCH_EZGED_PASSWORD = 'bench-password';
