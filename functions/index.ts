// Entry point of the bundle: importing each function file registers it with the host.
import './folderLauncher';
import './imapLauncher';
import './pop3Launcher';
import './coldSender';
import './o365Launcher';
import './adullactLauncher';
import './coldRetry';
