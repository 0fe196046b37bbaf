// The route a balancer's health checks ask: the servers answer it before the app sees it, so it is neither counted nor timed.
export const HEALTH_PATH = '/healthz'
