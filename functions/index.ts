// Entry point of the bundle: importing each function file registers it with the host.
import './folderLauncher';
import './imapLauncher';
import './coldSender';
import './adullactLauncher';
import './o365Launcher';
import './coldRetry';
