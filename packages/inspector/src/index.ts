export { inspectorPayload } from './payload';
export { pageDirectory } from './page-files';
export { INSPECTOR_HOST, InspectorPortError, serveInspector, type InspectorServer, type ServeOptions } from './server';
export {
  BAR_KINDS,
  barChartSvg,
  renderHtmlReport,
  type BarKind,
  type HtmlReport,
  type ReportBar,
  type ReportChart,
} from './report';
