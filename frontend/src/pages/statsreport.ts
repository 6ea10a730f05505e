/** The public transparency report page: styles only (the report is server-rendered). */
import "../styles/base.css";
import "../styles/staff.css";
import "../styles/stats.css";
