@echo off
rem rdsports: Windows Firewall rules (netsh) for host sh001 of deployment fabrikam.
rem Run as Administrator. Running it again first deletes every rule with the
rem name below and then adds the rules anew.
rem Inbound: 14 flows, 4 rules after aggregation.
rem These rules only allow: what they do not allow is blocked by each profile's
rem default inbound action, BlockInbound (Windows' default). The two commands
rem below show every profile's state and policy: each should say ON and
rem BlockInbound, or unplanned ports stay open.
netsh advfirewall show allprofiles state
netsh advfirewall show allprofiles firewallpolicy
netsh advfirewall firewall delete rule name="rdsports fabrikam" >nul 2>&1
rem S24: RDP from the gateway to the session host or virtual desktop
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=3389 description="S24: RDP from the gateway to the session host or virtual desktop" remoteip=203.0.113.10/31 >nul || exit /b 1
rem S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ('Send Receive')
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=UDP localport=3389 description="S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ('Send Receive')" remoteip=203.0.113.10/31 >nul || exit /b 1
rem S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range)
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=135,445,50000-50999 description="S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range)" remoteip=192.0.2.10/31,192.0.2.12 >nul || exit /b 1
rem S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
netsh advfirewall firewall add rule name="rdsports fabrikam" dir=in action=allow enable=yes profile=any protocol=TCP localport=5986 description="S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration" remoteip=192.0.2.80 >nul || exit /b 1
exit /b 0
