/**
 * Registers the orchestrators and, through their imports, every activity. Imported by the
 * app's entry point (functions/index.ts). Activities take their dependencies from the
 * composition root (src/app/services.ts).
 */
import './workflowOrchestrator';
import './jobOrchestrator';
import './cleanupOrchestrator';
import './leaseExpiryOrchestrator';
import './scheduleOrchestrator';
