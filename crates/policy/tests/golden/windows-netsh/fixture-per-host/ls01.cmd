@echo off
rem rdsports: Windows Firewall rules (netsh) for host ls01 of deployment contoso.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 10 flows, 2 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports contoso" >nul 2>&1
rem S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=5985 description="S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration" remoteip=192.0.2.10 >nul || exit /b 1
rem S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)
netsh advfirewall firewall add rule name="rdsports contoso" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,445,49152-65535 description="S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)" remoteip=192.0.2.21,192.0.2.22/31 >nul || exit /b 1
exit /b 0
