// Istio's analyzers' findings about a snapshot (`istioctl analyze`).

/** One `istioctl analyze` message, as Istio's analyzers report it. */
export interface AnalyzerMessage {
  code: string;
  level: string;
  message: string;
  kind?: string;
  namespace?: string;
  name?: string;
  origin?: string;
  text: string;
}
