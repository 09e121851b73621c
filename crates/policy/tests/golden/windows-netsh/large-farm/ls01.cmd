@echo off
rem rdsports: Windows Firewall rules (netsh) for host ls01 of deployment fabrikam.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 601 flows, 2 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports fabrikam" >nul 2>&1
rem S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=5986 description="S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration" remoteip=192.0.2.80 >nul || exit /b 1
rem S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,445,50000-50999 description="S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)" remoteip=198.51.100.1,198.51.100.2/31,198.51.100.4/30,198.51.100.8/29,198.51.100.16/28,198.51.100.32/27,198.51.100.64/26,198.51.100.128/26,198.51.100.192/29,198.51.100.200 >nul || exit /b 1
exit /b 0
